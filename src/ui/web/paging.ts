// Pages of a list: the deployments view renders one page of rows, so a list of thousands costs
// the browser a hundred rows' work (a slow machine's first paint was seconds with all rows).

export const PAGE_SIZE = 100;

export interface Page<T> {
  items: T[];
  /** 1-based; a page past the end is the last page. */
  page: number;
  pages: number;
  /** 1-based positions of the first and last item shown (0 and 0 for an empty list). */
  first: number;
  last: number;
}

export function pageOf<T>(all: readonly T[], page: number | undefined, size = PAGE_SIZE): Page<T> {
  const pages = Math.max(1, Math.ceil(all.length / size));
  const current = Math.min(Math.max(1, Math.floor(page ?? 1)), pages);
  const start = (current - 1) * size;
  const items = all.slice(start, start + size);
  return { items, page: current, pages, first: items.length ? start + 1 : 0, last: start + items.length };
}
