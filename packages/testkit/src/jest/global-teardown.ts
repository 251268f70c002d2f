/** Jest globalTeardown: stop what globalSetup started. */
export default async function globalTeardown(): Promise<void> {
  const services = (globalThis as { __datakitServices?: { stop(): Promise<void> }[] }).__datakitServices ?? [];
  await Promise.all(services.map((s) => s.stop()));
}
