// The Git audit trail of the webservice-canary rollout of v2 (staging, then production one cluster
// at a time): one commit per step. Both the uninterrupted run and the run whose controller is
// killed mid-way must write exactly this.
export const CANARY_V2_STEPS = [
  "v2 supersedes v1; v2 batch 1/3 in wave staging (staging)",
  "v2 batch 2/3 in wave staging (staging)",
  "v2 batch 3/3 in wave staging (staging)",
  "v2 completed in wave staging (staging); v2 batch 1/3 in wave production (prod-eu)",
  "v2 batch 2/3 in wave production (prod-eu)",
  "v2 batch 3/3 in wave production (prod-eu)",
  "v2 completed in wave production (prod-eu); v2 batch 1/3 in wave production (prod-us)",
  "v2 batch 2/3 in wave production (prod-us)",
  "v2 batch 3/3 in wave production (prod-us)",
  "v2 completed in wave production (prod-us)",
];
