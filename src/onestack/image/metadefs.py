"""Glance's metadata definitions catalog (metadefs): namespaces of property, object
and tag definitions, and the resource types they apply to.

A project sees the public namespaces and its own private ones; an administrator
sees every namespace.  A namespace ``ctx`` may not see is reported as not found.
Writes are the administrator's (Glance's default policy, ``image:add_metadef_*``
and friends).  A protected namespace cannot be deleted, nor can its objects,
properties or tags be deleted all at once (403), until ``protected`` is cleared.

Request bodies are checked here (unknown or mistyped fields are a 400); the
HTTP routes and the wire shapes are in ``api/metadefs.py``.  The catalog starts
with the resource types of the services onestack runs (``ensure_resource_types``
at start) and no namespaces; an
association with an unknown resource type creates it, as Glance does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import is_duplicate, utcnow
from onestack.common.exceptions import BadRequest, Conflict, Forbidden, NotFound
from onestack.image.core import ImageCore
from onestack.image.listing import page_order
from onestack.image.models import (
    MetadefAssociation,
    MetadefNamespace,
    MetadefObject,
    MetadefProperty,
    MetadefResourceType,
    MetadefTag,
)

#: the resource types of the services onestack runs, there from the start
RESOURCE_TYPES = (
    "OS::Cinder::Volume",
    "OS::Glance::Image",
    "OS::Nova::Aggregate",
    "OS::Nova::Flavor",
    "OS::Nova::Server",
)
VISIBILITIES = ("public", "private")
PROPERTY_TYPES = ("array", "boolean", "integer", "number", "object", "string")
#: what a property definition may hold besides its name (Glance's property schema)
PROPERTY_FIELDS: dict[str, tuple[type, ...]] = {
    "title": (str,),
    "description": (str,),
    "type": (str,),
    "enum": (list,),
    "default": (str, int, float, bool, list, dict),
    "minimum": (int, float),
    "maximum": (int, float),
    "minLength": (int,),
    "maxLength": (int,),
    "pattern": (str,),
    "items": (dict,),
    "minItems": (int,),
    "maxItems": (int,),
    "uniqueItems": (bool,),
    "additionalItems": (bool,),
    "readonly": (bool,),
    "operators": (list,),
}
NAMESPACE_FIELDS = (
    "namespace",
    "display_name",
    "description",
    "visibility",
    "protected",
    "owner",
    "resource_type_associations",
    "properties",
    "objects",
    "tags",
    # read-only fields a client sends back unchanged on PUT
    "created_at",
    "updated_at",
    "schema",
    "self",
)
SORT_KEYS = {
    "created_at": MetadefNamespace.created_at,
    "updated_at": MetadefNamespace.updated_at,
    "namespace": MetadefNamespace.namespace,
    "id": MetadefNamespace.id,
}


class NamespaceNotFound(NotFound):
    msg_fmt = "Metadata definition namespace={namespace} was not found."


class NamespaceProtected(Forbidden):
    msg_fmt = "Metadata definition namespace={namespace} is protected and cannot be deleted."


class ItemNotFound(NotFound):
    msg_fmt = "Metadata definition {kind}={name} was not found in namespace={namespace}."


class DuplicateItem(Conflict):
    msg_fmt = (
        "A metadata definition {kind} with name={name} already exists in namespace={namespace}."
    )


# -- checking request bodies ----------------------------------------------------------


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f"The {what} must be a JSON object.")
    return body


def _text(body: dict[str, Any], key: str, limit: int, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise BadRequest(f"'{key}' is a required property")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{value!r} is not of type 'string' ('{key}')")
    if required and not value.strip():
        raise BadRequest(f"'{key}' must not be empty")
    if len(value) > limit:
        raise BadRequest(f"'{key}' is longer than {limit} characters")
    return value


def _name(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"The {what} name must be a non-empty string.")
    if len(value) > limit:
        raise BadRequest(f"The {what} name is longer than {limit} characters.")
    return value


def _bool(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise BadRequest(f"{value!r} is not of type 'boolean' ('{key}')")
    return value


def property_schema(body: Any, what: str = "property") -> dict[str, Any]:
    """A property definition without its name, checked as Glance's schema does."""
    body = _object(body, what)
    schema: dict[str, Any] = {}
    for key, value in body.items():
        if key == "name":
            continue
        kinds = PROPERTY_FIELDS.get(key)
        if kinds is None:
            raise BadRequest(f"Additional properties are not allowed ('{key}' in {what})")
        if value is None or (isinstance(value, bool) and bool not in kinds):
            raise BadRequest(f"{value!r} is not valid for '{key}' in {what}")
        if not isinstance(value, kinds):
            raise BadRequest(f"{value!r} is not valid for '{key}' in {what}")
        schema[key] = value
    for key in ("title", "type"):
        if key not in schema:
            raise BadRequest(f"'{key}' is a required property ({what})")
    if schema["type"] not in PROPERTY_TYPES:
        raise BadRequest(f"{schema['type']!r} is not one of {list(PROPERTY_TYPES)} ({what})")
    return schema


def _properties(value: Any, what: str) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(f"The {what} properties must be a JSON object.")
    return {
        _name(name, "property", 255): property_schema(spec, f"property {name}")
        for name, spec in value.items()
    }


def _required(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest("'required' must be a list of property names.")
    return list(dict.fromkeys(value))


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest(f"'{what}' must be a list.")
    return value


class MetadefManager:
    def __init__(self, core: ImageCore) -> None:
        self.core = core

    # -- helpers ---------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction; a name taken by a concurrent request is a 409, as a
        name taken before is."""
        try:
            with self.core.db.writer() as session:
                yield session
        except IntegrityError as exc:
            if not is_duplicate(exc):
                raise
            raise Conflict(
                "A metadata definition with that name already exists (created meanwhile)."
            ) from None

    def _enforce(self, ctx: RequestContext, action: str, owner: str | None) -> None:
        self.core.enforce_owner(ctx, action, owner)

    @staticmethod
    def _visible(ctx: RequestContext, row: MetadefNamespace) -> bool:
        return ctx.is_admin or row.visibility == "public" or row.owner == ctx.project_id

    def _load(self, session: Session, ctx: RequestContext, namespace: str) -> MetadefNamespace:
        row = session.scalars(
            select(MetadefNamespace).where(MetadefNamespace.namespace == namespace)
        ).first()
        if row is None or not self._visible(ctx, row):
            raise NamespaceNotFound(namespace=namespace)
        return row

    def _writable(
        self, session: Session, ctx: RequestContext, namespace: str, action: str
    ) -> MetadefNamespace:
        row = self._load(session, ctx, namespace)
        self._enforce(ctx, action, row.owner)
        return row

    @staticmethod
    def _touch(row: MetadefNamespace) -> None:
        row.updated_at = utcnow()

    # -- namespaces ------------------------------------------------------------------

    def list_namespaces(
        self, ctx: RequestContext, query: Sequence[tuple[str, str]]
    ) -> tuple[list[MetadefNamespace], str | None]:
        """One page of the namespaces ``ctx`` sees, and the marker of the next page."""
        self._enforce(ctx, "get_metadef_namespaces", ctx.project_id)
        params = dict(query)
        limit, key, direction = page_order(self.core, params, SORT_KEYS)
        visibility = params.get("visibility")
        if visibility is not None and visibility not in VISIBILITIES:
            raise BadRequest(f"Invalid visibility value: {visibility}")
        wanted_types = [t for t in params.get("resource_types", "").split(",") if t]
        with self.core.db.reader() as session:
            column = SORT_KEYS[key]
            order = column.asc() if direction == "asc" else column.desc()
            tie = MetadefNamespace.id.asc() if direction == "asc" else MetadefNamespace.id.desc()
            rows = [
                r
                for r in session.scalars(select(MetadefNamespace).order_by(order, tie))
                if self._visible(ctx, r)
                and (visibility is None or r.visibility == visibility)
                and (
                    not wanted_types or any(a.resource_type in wanted_types for a in r.associations)
                )
            ]
        marker = params.get("marker")
        if marker is not None:
            names = [r.namespace for r in rows]
            if marker not in names:
                raise BadRequest(f"Invalid marker. Namespace {marker} could not be found.")
            rows = rows[names.index(marker) + 1 :]
        page = rows[:limit]
        more = limit and len(rows) > limit
        return page, (page[-1].namespace if more else None)

    def get_namespace(self, ctx: RequestContext, namespace: str) -> MetadefNamespace:
        with self.core.db.reader() as session:
            row = self._load(session, ctx, namespace)
            self._enforce(ctx, "get_metadef_namespace", row.owner)
            return row

    def _check_name_free(self, session: Session, namespace: str) -> None:
        taken = session.scalars(
            select(MetadefNamespace.id).where(MetadefNamespace.namespace == namespace)
        ).first()
        if taken is not None:
            raise Conflict(
                f"A metadata definition namespace with namespace={namespace} already exists."
            )

    @staticmethod
    def _fields(row: MetadefNamespace, body: dict[str, Any], *, update: bool = False) -> None:
        """The namespace's own fields from ``body``; on update, a field left out keeps
        its value (openstacksdk sends only what changed)."""
        unknown = sorted(set(body) - set(NAMESPACE_FIELDS))
        if unknown:
            raise BadRequest(f"Additional properties are not allowed ({', '.join(unknown)})")
        if not update or "display_name" in body:
            row.display_name = _text(body, "display_name", 80)
        if not update or "description" in body:
            row.description = _text(body, "description", 500)
        visibility = body.get("visibility", row.visibility if update else "private")
        if visibility not in VISIBILITIES:
            raise BadRequest(f"Invalid visibility value: {visibility}")
        row.visibility = visibility
        row.protected = _bool(body, "protected", row.protected if update else False)

    def create_namespace(self, ctx: RequestContext, body: Any) -> MetadefNamespace:
        body = _object(body, "namespace")
        name = _text(body, "namespace", 80, required=True)
        assert name is not None
        owner = _text(body, "owner", 255) or ctx.project_id
        self._enforce(ctx, "add_metadef_namespace", owner)
        row = MetadefNamespace(id=str(uuid.uuid4()), namespace=name, owner=owner)
        self._fields(row, body)
        properties = _properties(body.get("properties"), "namespace")
        objects = [self._new_object(o) for o in _list(body.get("objects"), "objects")]
        tags = [
            _name(_object(t, "tag").get("name"), "tag", 255)
            for t in _list(body.get("tags"), "tags")
        ]
        associations = [
            self._new_association(a)
            for a in _list(body.get("resource_type_associations"), "resource_type_associations")
        ]
        for kind, names in (("object", [o.name for o in objects]), ("tag", tags)):
            for i, item in enumerate(names):
                if item in names[:i]:
                    raise DuplicateItem(kind=kind, name=item, namespace=name)
        with self._write() as session:
            self._check_name_free(session, name)
            row.properties = [
                MetadefProperty(id=str(uuid.uuid4()), name=n, schema=s)
                for n, s in properties.items()
            ]
            row.objects = objects
            row.tags = [MetadefTag(id=str(uuid.uuid4()), name=_name(t, "tag", 255)) for t in tags]
            for association in associations:
                self._resource_type(session, association.resource_type)
            row.associations = associations
            session.add(row)
        return row

    def update_namespace(self, ctx: RequestContext, namespace: str, body: Any) -> MetadefNamespace:
        body = _object(body, "namespace")
        new_name = _text(body, "namespace", 80, required=True)
        assert new_name is not None
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "modify_metadef_namespace")
            if new_name != row.namespace:
                self._check_name_free(session, new_name)
                row.namespace = new_name
            owner = _text(body, "owner", 255)
            if owner is not None:
                row.owner = owner
            self._fields(row, body, update=True)
            self._touch(row)
            return row

    def delete_namespace(self, ctx: RequestContext, namespace: str) -> None:
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "delete_metadef_namespace")
            if row.protected:
                raise NamespaceProtected(namespace=namespace)
            session.delete(row)

    # -- objects ---------------------------------------------------------------------

    @staticmethod
    def _new_object(body: Any) -> MetadefObject:
        body = _object(body, "object")
        row = MetadefObject(id=str(uuid.uuid4()), name=_name(body.get("name"), "object", 80))
        MetadefManager._object_fields(row, body)
        return row

    @staticmethod
    def _object_fields(row: MetadefObject, body: dict[str, Any]) -> None:
        allowed = {"name", "description", "required", "properties"}
        allowed |= {"created_at", "updated_at", "schema", "self"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise BadRequest(f"Additional properties are not allowed ({', '.join(unknown)})")
        row.description = _text(body, "description", 500)
        row.required = _required(body.get("required"))
        row.properties = dict(_properties(body.get("properties"), "object"))

    @staticmethod
    def _find(items: Sequence[Any], name: str, kind: str, namespace: str) -> Any:
        for item in items:
            if item.name == name:
                return item
        raise ItemNotFound(kind=kind, name=name, namespace=namespace)

    def list_objects(self, ctx: RequestContext, namespace: str) -> list[MetadefObject]:
        with self.core.db.reader() as session:
            row = self._load(session, ctx, namespace)
            self._enforce(ctx, "get_metadef_objects", row.owner)
            return list(row.objects)

    def get_object(self, ctx: RequestContext, namespace: str, name: str) -> MetadefObject:
        with self.core.db.reader() as session:
            row = self._load(session, ctx, namespace)
            self._enforce(ctx, "get_metadef_object", row.owner)
            return self._find(row.objects, name, "object", namespace)

    def create_object(self, ctx: RequestContext, namespace: str, body: Any) -> MetadefObject:
        obj = self._new_object(body)
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "add_metadef_object")
            if any(o.name == obj.name for o in row.objects):
                raise DuplicateItem(kind="object", name=obj.name, namespace=namespace)
            row.objects.append(obj)
            self._touch(row)
        return obj

    def update_object(
        self, ctx: RequestContext, namespace: str, name: str, body: Any
    ) -> MetadefObject:
        body = _object(body, "object")
        new_name = _name(body.get("name"), "object", 80)
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "modify_metadef_object")
            obj: MetadefObject = self._find(row.objects, name, "object", namespace)
            if new_name != name and any(o.name == new_name for o in row.objects):
                raise DuplicateItem(kind="object", name=new_name, namespace=namespace)
            obj.name = new_name
            self._object_fields(obj, body)
            obj.updated_at = utcnow()
            return obj

    def delete_object(self, ctx: RequestContext, namespace: str, name: str) -> None:
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "delete_metadef_object")
            row.objects.remove(self._find(row.objects, name, "object", namespace))
            self._touch(row)

    def delete_objects(self, ctx: RequestContext, namespace: str) -> None:
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "delete_metadef_object")
            if row.protected:
                raise NamespaceProtected(namespace=namespace)
            row.objects.clear()
            self._touch(row)

    # -- properties ------------------------------------------------------------------

    def list_properties(self, ctx: RequestContext, namespace: str) -> list[MetadefProperty]:
        with self.core.db.reader() as session:
            row = self._load(session, ctx, namespace)
            self._enforce(ctx, "get_metadef_properties", row.owner)
            return list(row.properties)

    def get_property(self, ctx: RequestContext, namespace: str, name: str) -> MetadefProperty:
        """The property ``name``; a name carrying the prefix of one of the namespace's
        resource type associations finds the property without it, as Glance does."""
        with self.core.db.reader() as session:
            row = self._load(session, ctx, namespace)
            self._enforce(ctx, "get_metadef_property", row.owner)
            candidates = [name] + [
                name[len(a.prefix) :]
                for a in row.associations
                if a.prefix and name.startswith(a.prefix)
            ]
            for candidate in candidates:
                for prop in row.properties:
                    if prop.name == candidate:
                        return prop
            raise ItemNotFound(kind="property", name=name, namespace=namespace)

    def create_property(self, ctx: RequestContext, namespace: str, body: Any) -> MetadefProperty:
        body = _object(body, "property")
        name = _name(body.get("name"), "property", 255)
        prop = MetadefProperty(id=str(uuid.uuid4()), name=name, schema=property_schema(body))
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "add_metadef_property")
            if any(p.name == name for p in row.properties):
                raise DuplicateItem(kind="property", name=name, namespace=namespace)
            row.properties.append(prop)
            self._touch(row)
        return prop

    def update_property(
        self, ctx: RequestContext, namespace: str, name: str, body: Any
    ) -> MetadefProperty:
        body = _object(body, "property")
        new_name = _name(body.get("name"), "property", 255)
        schema = property_schema(body)
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "modify_metadef_property")
            prop: MetadefProperty = self._find(row.properties, name, "property", namespace)
            if new_name != name and any(p.name == new_name for p in row.properties):
                raise DuplicateItem(kind="property", name=new_name, namespace=namespace)
            prop.name = new_name
            prop.schema = schema
            prop.updated_at = utcnow()
            return prop

    def delete_property(self, ctx: RequestContext, namespace: str, name: str) -> None:
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "remove_metadef_property")
            row.properties.remove(self._find(row.properties, name, "property", namespace))
            self._touch(row)

    def delete_properties(self, ctx: RequestContext, namespace: str) -> None:
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "remove_metadef_property")
            if row.protected:
                raise NamespaceProtected(namespace=namespace)
            row.properties.clear()
            self._touch(row)

    # -- tags ------------------------------------------------------------------------

    def list_tags(
        self, ctx: RequestContext, namespace: str, query: Sequence[tuple[str, str]]
    ) -> list[MetadefTag]:
        params = dict(query)
        key = params.get("sort_key", "created_at")
        direction = params.get("sort_dir", "desc")
        if key not in ("name", "created_at", "updated_at"):
            raise BadRequest(f"Invalid sort key: {key}")
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort direction: {direction}")
        with self.core.db.reader() as session:
            row = self._load(session, ctx, namespace)
            self._enforce(ctx, "get_metadef_tags", row.owner)
            tags = sorted(
                row.tags, key=lambda t: (getattr(t, key), t.name), reverse=direction == "desc"
            )
        marker = params.get("marker")
        if marker is not None:
            names = [t.name for t in tags]
            if marker not in names:
                raise BadRequest(f"Invalid marker. Tag {marker} could not be found.")
            tags = tags[names.index(marker) + 1 :]
        if "limit" in params:
            try:
                limit = int(params["limit"])
            except ValueError:
                raise BadRequest("limit param must be an integer") from None
            if limit < 0:
                raise BadRequest("limit param must be positive")
            tags = tags[:limit]
        return tags

    def get_tag(self, ctx: RequestContext, namespace: str, name: str) -> MetadefTag:
        with self.core.db.reader() as session:
            row = self._load(session, ctx, namespace)
            self._enforce(ctx, "get_metadef_tag", row.owner)
            return self._find(row.tags, name, "tag", namespace)

    def create_tag(self, ctx: RequestContext, namespace: str, name: str) -> MetadefTag:
        name = _name(name, "tag", 255)
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "add_metadef_tag")
            if any(t.name == name for t in row.tags):
                raise DuplicateItem(kind="tag", name=name, namespace=namespace)
            tag = MetadefTag(id=str(uuid.uuid4()), name=name)
            row.tags.append(tag)
            self._touch(row)
        return tag

    def create_tags(
        self, ctx: RequestContext, namespace: str, body: Any, *, append: bool
    ) -> list[MetadefTag]:
        """Several tags at once; they replace the namespace's tags unless ``append``."""
        body = _object(body, "request body")
        if "tags" not in body:
            raise BadRequest("'tags' is a required property")
        items = _list(body["tags"], "tags")
        names = [_name(_object(t, "tag").get("name"), "tag", 255) for t in items]
        if len(set(names)) != len(names):
            raise Conflict("The request holds the same tag more than once.")
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "add_metadef_tags")
            if append:
                for name in names:
                    if any(t.name == name for t in row.tags):
                        raise DuplicateItem(kind="tag", name=name, namespace=namespace)
            else:
                row.tags.clear()
                session.flush()
            tags = [MetadefTag(id=str(uuid.uuid4()), name=n) for n in names]
            row.tags.extend(tags)
            self._touch(row)
        return tags

    def update_tag(self, ctx: RequestContext, namespace: str, name: str, body: Any) -> MetadefTag:
        new_name = _name(_object(body, "tag").get("name"), "tag", 255)
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "modify_metadef_tag")
            tag: MetadefTag = self._find(row.tags, name, "tag", namespace)
            if new_name != name and any(t.name == new_name for t in row.tags):
                raise DuplicateItem(kind="tag", name=new_name, namespace=namespace)
            tag.name = new_name
            tag.updated_at = utcnow()
            return tag

    def delete_tag(self, ctx: RequestContext, namespace: str, name: str) -> None:
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "delete_metadef_tag")
            row.tags.remove(self._find(row.tags, name, "tag", namespace))
            self._touch(row)

    def delete_tags(self, ctx: RequestContext, namespace: str) -> None:
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "delete_metadef_tags")
            if row.protected:
                raise NamespaceProtected(namespace=namespace)
            row.tags.clear()
            self._touch(row)

    # -- resource types --------------------------------------------------------------

    def ensure_resource_types(self) -> None:
        """The built-in resource types (``RESOURCE_TYPES``), protected; at start."""
        with self._write() as session:
            for name in RESOURCE_TYPES:
                if session.get(MetadefResourceType, name) is None:
                    session.add(MetadefResourceType(name=name, protected=True))

    def list_resource_types(self, ctx: RequestContext) -> list[MetadefResourceType]:
        self._enforce(ctx, "list_metadef_resource_types", ctx.project_id)
        with self.core.db.reader() as session:
            return list(
                session.scalars(select(MetadefResourceType).order_by(MetadefResourceType.name))
            )

    @staticmethod
    def _new_association(body: Any) -> MetadefAssociation:
        body = _object(body, "resource type association")
        unknown = sorted(
            set(body) - {"name", "prefix", "properties_target", "created_at", "updated_at"}
        )
        if unknown:
            raise BadRequest(f"Additional properties are not allowed ({', '.join(unknown)})")
        return MetadefAssociation(
            resource_type=_name(body.get("name"), "resource type", 80),
            prefix=_text(body, "prefix", 80),
            properties_target=_text(body, "properties_target", 80),
        )

    @staticmethod
    def _resource_type(session: Session, name: str) -> None:
        """The resource type ``name``, created (unprotected) when it is new."""
        if session.get(MetadefResourceType, name) is None:
            session.add(MetadefResourceType(name=name, protected=False))
            session.flush()

    def list_associations(self, ctx: RequestContext, namespace: str) -> list[MetadefAssociation]:
        with self.core.db.reader() as session:
            row = self._load(session, ctx, namespace)
            self._enforce(ctx, "get_metadef_resource_type", row.owner)
            return list(row.associations)

    def associate(self, ctx: RequestContext, namespace: str, body: Any) -> MetadefAssociation:
        association = self._new_association(body)
        with self._write() as session:
            row = self._writable(session, ctx, namespace, "add_metadef_resource_type_association")
            if any(a.resource_type == association.resource_type for a in row.associations):
                raise Conflict(
                    f"The metadata definition resource-type association of "
                    f"resource-type={association.resource_type} to namespace={namespace} "
                    "already exists."
                )
            self._resource_type(session, association.resource_type)
            row.associations.append(association)
            self._touch(row)
        return association

    def dissociate(self, ctx: RequestContext, namespace: str, resource_type: str) -> None:
        with self._write() as session:
            row = self._writable(
                session, ctx, namespace, "remove_metadef_resource_type_association"
            )
            for association in row.associations:
                if association.resource_type == resource_type:
                    row.associations.remove(association)
                    self._touch(row)
                    return
            raise NotFound(
                f"The metadata definition resource-type association of "
                f"resource-type={resource_type} to namespace={namespace} was not found."
            )
