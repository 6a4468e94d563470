"""All SQL of accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select

from parkshare.accounts.model import Account, AuthToken, DriverPlate, LoginAttempt
from parkshare.accounts.principal import Role
from parkshare.lots.model import Lot
from parkshare.repository import Repository


class AccountRepository(Repository):
    def by_login(self, login: str) -> Account | None:
        return self.session.scalar(select(Account).where(Account.login == login))

    def get(self, account_id: int) -> Account | None:
        return self.session.get(Account, account_id)

    def all(self, *, role: Role | None = None) -> list[Account]:
        statement = select(Account).order_by(Account.id)
        if role is not None:
            statement = statement.where(Account.role == role)
        return list(self.session.scalars(statement))

    def token(self, token_hash: str) -> tuple[AuthToken, Account] | None:
        row = self.session.execute(
            select(AuthToken, Account)
            .join(Account, Account.id == AuthToken.account_id)
            .where(AuthToken.token_hash == token_hash)
        ).first()
        return (row[0], row[1]) if row else None

    def plates(self, account_id: int) -> list[str]:
        statement = (
            select(DriverPlate.plate)
            .where(DriverPlate.account_id == account_id)
            .order_by(DriverPlate.added_at, DriverPlate.id)
        )
        return list(self.session.scalars(statement))

    def plate_row(self, account_id: int, plate: str) -> DriverPlate | None:
        return self.session.scalar(
            select(DriverPlate).where(
                DriverPlate.account_id == account_id, DriverPlate.plate == plate
            )
        )

    def failed_attempts(self, client: str, since: datetime) -> int:
        statement = select(func.count()).where(
            LoginAttempt.client == client,
            LoginAttempt.at >= since,
            LoginAttempt.succeeded.is_(False),
        )
        return self.session.scalar(statement) or 0

    def forget_attempts(self, before: datetime) -> None:
        self.session.execute(delete(LoginAttempt).where(LoginAttempt.at < before))

    def operator_lot_ids(self, operator_id: int) -> set[int]:
        return set(self.session.scalars(select(Lot.id).where(Lot.operator_id == operator_id)))

    def operator_lot_codes(self, operator_id: int) -> set[str]:
        return set(self.session.scalars(select(Lot.code).where(Lot.operator_id == operator_id)))
