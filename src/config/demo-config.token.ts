/** Injection token of the demo's {@link DemoConfig}. */
export const DEMO_CONFIG = Symbol('DEMO_CONFIG');
