"""List pages that can walk to the following pages by cursor."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Generic, TypeVar

from dovecote._models import DovecoteObject

ItemT = TypeVar("ItemT", bound=DovecoteObject)


class ListPage(Generic[ItemT]):
    """One page of a list: `data`, `has_more`, `next_cursor`.

    Iterating the page walks every item of this page and of all the following pages,
    fetching them lazily; use `.data` for this page alone.
    """

    def __init__(
        self,
        data: list[ItemT],
        has_more: bool,
        next_cursor: str | None,
        raw: dict[str, Any],
        fetch_page: Callable[[str], ListPage[ItemT]] | None = None,
    ) -> None:
        self.data = data
        self.has_more = has_more
        self.next_cursor = next_cursor
        self._raw = raw
        self._fetch_page = fetch_page

    @classmethod
    def from_api(
        cls,
        body: Any,
        item_type: type[ItemT],
        fetch_page: Callable[[str], ListPage[ItemT]] | None = None,
    ) -> ListPage[ItemT]:
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ValueError("expected a list object with a 'data' array")
        items = [item_type.model_validate(item) for item in body["data"]]
        return cls(
            data=items,
            has_more=bool(body.get("has_more", False)),
            next_cursor=body.get("next_cursor"),
            raw=body,
            fetch_page=fetch_page,
        )

    def has_next_page(self) -> bool:
        return self.has_more and bool(self.next_cursor) and self._fetch_page is not None

    def next_page(self) -> ListPage[ItemT] | None:
        """The following page, or None when this is the last one."""
        if not self.has_next_page():
            return None
        assert self._fetch_page is not None
        assert self.next_cursor is not None
        return self._fetch_page(self.next_cursor)

    def iter_pages(self) -> Iterator[ListPage[ItemT]]:
        page: ListPage[ItemT] | None = self
        while page is not None:
            yield page
            page = page.next_page()

    def auto_paging_iter(self) -> Iterator[ItemT]:
        """Every item from this page on, fetching following pages as needed."""
        for page in self.iter_pages():
            yield from page.data

    def __iter__(self) -> Iterator[ItemT]:
        return self.auto_paging_iter()

    def to_dict(self) -> dict[str, Any]:
        """This page as the API sent it."""
        return copy.deepcopy(self._raw)

    def __repr__(self) -> str:
        return f"ListPage(data={self.data!r}, has_more={self.has_more!r}, next_cursor={self.next_cursor!r})"


class AsyncListPage(Generic[ItemT]):
    """`ListPage` for `AsyncDovecote`: following pages are fetched without blocking the loop.

    `async for item in page` walks every item of this page and of all the following pages.
    """

    def __init__(self, page: ListPage[ItemT]) -> None:
        self._page = page

    @property
    def data(self) -> list[ItemT]:
        return self._page.data

    @property
    def has_more(self) -> bool:
        return self._page.has_more

    @property
    def next_cursor(self) -> str | None:
        return self._page.next_cursor

    def has_next_page(self) -> bool:
        return self._page.has_next_page()

    async def next_page(self) -> AsyncListPage[ItemT] | None:
        following = await asyncio.to_thread(self._page.next_page)
        return None if following is None else AsyncListPage(following)

    async def iter_pages(self) -> AsyncIterator[AsyncListPage[ItemT]]:
        page: AsyncListPage[ItemT] | None = self
        while page is not None:
            yield page
            page = await page.next_page()

    async def auto_paging_iter(self) -> AsyncIterator[ItemT]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item

    def __aiter__(self) -> AsyncIterator[ItemT]:
        return self.auto_paging_iter()

    def to_dict(self) -> dict[str, Any]:
        return self._page.to_dict()

    def __repr__(self) -> str:
        return f"Async{self._page!r}"
