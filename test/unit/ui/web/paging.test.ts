import { describe, expect, it } from "vitest";
import { PAGE_SIZE, pageOf } from "../../../../src/ui/web/paging.js";

const rows = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("pages of the deployments list", () => {
  it("shows a hundred rows per page, and where they sit in the whole list", () => {
    expect(PAGE_SIZE).toBe(100);
    const second = pageOf(rows(1000), 2);
    expect(second).toMatchObject({ page: 2, pages: 10, first: 101, last: 200 });
    expect(second.items).toHaveLength(100);
    expect(second.items[0]).toBe(101);
  });

  it("ends with a short last page", () => {
    expect(pageOf(rows(250), 3)).toMatchObject({ page: 3, pages: 3, first: 201, last: 250 });
  });

  it("shows the last page for a page past the end (a filter shrank the list) and the first for no page", () => {
    expect(pageOf(rows(250), 9)).toMatchObject({ page: 3, first: 201, last: 250 });
    expect(pageOf(rows(250), undefined)).toMatchObject({ page: 1, first: 1, last: 100 });
    expect(pageOf(rows(250), 0)).toMatchObject({ page: 1, first: 1 });
  });

  it("has one empty page for an empty list", () => {
    expect(pageOf([], 4)).toEqual({ items: [], page: 1, pages: 1, first: 0, last: 0 });
  });
});
