"""Conditions: ``equals``, ``not``, ``and``, ``or`` (a condition's value), and ``if``
(a value chosen by a condition), from HOT 2016-10-14 on."""

from __future__ import annotations

from typing import Any, ClassVar

from onestack.orchestration.template.functions import Context, Function, resolve


def condition_value(ctx: Context, value: Any, fn_name: str) -> bool:
    value = resolve(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if not ctx.has_condition(value):
            raise ValueError(f'Invalid condition "{value}"')
        return ctx.condition(value)
    raise TypeError(f'Arguments to "{fn_name}" must be conditions')


class Equals(Function):
    def check(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise ValueError(
                f'Arguments to "{self.fn_name}" must be of the form: [value_1, value_2]'
            )

    def result(self) -> Any:
        a, b = resolve(self.args)
        return a == b


class Not(Function):
    def result(self) -> Any:
        return not condition_value(self.ctx, self.args, self.fn_name)


class And(Function):
    def check(self) -> None:
        if not isinstance(self.args, list) or len(self.args) < 2:
            raise ValueError(
                f'Arguments to "{self.fn_name}" must be of the form: '
                "[condition_1, condition_2, ...]"
            )

    def result(self) -> Any:
        return all(condition_value(self.ctx, v, self.fn_name) for v in self.args)


class Or(And):
    def result(self) -> Any:
        return any(condition_value(self.ctx, v, self.fn_name) for v in self.args)


class If(Function):
    nullable: ClassVar[bool] = False

    def check(self) -> None:
        sizes = (2, 3) if self.nullable else (3,)
        if not isinstance(self.args, list) or len(self.args) not in sizes:
            raise ValueError(
                f'Arguments to "{self.fn_name}" must be of the form: '
                "[condition_name, value_if_true, value_if_false]"
            )

    def validate(self) -> None:
        super().validate()
        cond = self.args[0]
        if isinstance(cond, str) and not self.ctx.has_condition(cond):
            raise ValueError(f'Invalid condition "{cond}"')

    def result(self) -> Any:
        chosen = condition_value(self.ctx, self.args[0], self.fn_name)
        if chosen:
            return resolve(self.args[1])
        return resolve(self.args[2]) if len(self.args) > 2 else None


class IfNullable(If):
    nullable = True
