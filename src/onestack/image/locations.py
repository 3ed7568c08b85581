"""Where an image's data is: its locations, the stores, deleting one copy.

``GET /v2/images/{id}/locations`` (admin or service) lists the copies as
Glance 2.x shows them (``{"url", "metadata": {"store"}}``);
``DELETE /v2/stores/{store}/{id}`` (admin) removes the copy in one store,
never the last one (Glance's 403: delete the image instead);
``/v2/info/stores`` and ``/v2/info/stores/detail`` (admin) describe the
stores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import Conflict
from onestack.image import states
from onestack.image.core import ImageCore
from onestack.image.exceptions import ImageNotInStore, LastStore


class StoreLocations:
    def __init__(
        self, core: ImageCore, forget: Callable[[str], None] = lambda image_id: None
    ) -> None:
        self.core = core
        #: drops a cached copy of the image's data (it may have come from that store)
        self.forget = forget

    def stores(self, ctx: RequestContext, detail: bool = False) -> list[dict[str, object]]:
        if detail:
            self.core.enforce(ctx, "get_stores_detail")
        return self.core.stores.info(detail)

    def locations(self, ctx: RequestContext, image_id: str) -> list[dict[str, Any]]:
        core = self.core
        with core.db.reader() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "get_image_location", image)
            return [{"url": loc.url, "metadata": {"store": loc.store}} for loc in image.locations]

    def delete_from_store(self, ctx: RequestContext, store: str, image_id: str) -> None:
        core = self.core
        core.stores.get(store)  # 409 when the store is unknown or disabled
        with core.db.writer() as session:
            image = core.load(session, ctx, image_id)
            core.enforce(ctx, "delete_image_location", image)
            if image.status != states.ACTIVE:
                raise Conflict(
                    "It's not allowed to remove image data from store if image status "
                    f"is not 'active' ({image.status})."
                )
            copy = next((loc for loc in image.locations if loc.store == store), None)
            if copy is None:
                raise ImageNotInStore(image_id=image_id, store=store)
            if len(image.locations) == 1:
                raise LastStore()
            url = copy.url
            image.locations.remove(copy)
            image.updated_at = utcnow()
        core.delete_data(None, [(store, url)])
        self.forget(image_id)
