/** The pure anomaly-detection core: rules, per-minute aggregation, detector state, IP classification. */
export * from "./aggregate";
export * from "./armId";
export * from "./detector";
export * from "./ip";
export * from "./rules";
