// User Timing marks the app sets, for benchmarks and the browser's own performance tools
// (performance.getEntriesByName(mark): ms from navigation start).

/** The deployments list's first showing with its data: set in the frame that paints it. */
export const LIST_SHOWN_MARK = "flotilla:deployments-shown";
