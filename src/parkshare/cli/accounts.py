"""Commands: accounts create, list (the first administrator of a new deployment starts here)."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from parkshare.accounts import service
from parkshare.accounts.principal import Role
from parkshare.accounts.repository import AccountRepository
from parkshare.accounts.schemas import AccountRead
from parkshare.cli.common import (
    Format,
    FormatOption,
    accounts_app,
    console,
    fail,
    print_json,
    unit_of_work,
)
from parkshare.lots.repository import LotRepository

PASSWORD_VARIABLE = "PARKSHARE_NEW_PASSWORD"


@accounts_app.command("create")
def create(
    login: Annotated[str, typer.Argument(help="a login name: letters, digits, . _ -")],
    role: Annotated[Role, typer.Option(help="admin or operator")] = Role.ADMIN,
    operator: Annotated[
        str | None, typer.Option(help="the operator's name (staff of an operator)")
    ] = None,
    name: Annotated[str, typer.Option(help="a display name")] = "",
) -> None:
    """Create a city administrator or an operator's staff account. The password is read from
    PARKSHARE_NEW_PASSWORD, or asked for (never a command-line argument, which shells keep)."""
    password = os.environ.get(PASSWORD_VARIABLE) or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    with unit_of_work(write=True) as (session, settings):
        operator_id = None
        if operator is not None:
            found = LotRepository(session).operator_by_name(operator)
            if found is None:
                raise fail("not_found", f"There is no operator named {operator!r}.")
            operator_id = found.id
        account = service.create_staff(
            session,
            role=role,
            login=login,
            password=password,
            name=name,
            operator_id=operator_id,
            clock=settings.clock(),
        )
        console.print(f"created {account.role} account {account.login!r}")


@accounts_app.command("list")
def list_accounts(format: FormatOption = Format.TABLE) -> None:
    """Accounts (drivers' phone numbers masked)."""
    with unit_of_work() as (session, _):
        items = [AccountRead.of(account) for account in AccountRepository(session).all()]
    if format is Format.JSON:
        print_json(items)
        return
    table = Table("id", "role", "login", "name", "operator")
    for item in items:
        table.add_row(str(item.id), item.role, item.login, item.name, str(item.operator_id or ""))
    console.print(table)
