/** `GET /health` (the process is up) and `GET /ready` (it can reach its store). */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { TesseraError } from '../../errors.js';

export function healthRoutes(app: FastifyInstance, services: Services): void {
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async () => {
    try {
      await services.store.ping();
    } catch {
      throw new TesseraError('ServiceUnavailable', 'The store is unreachable.');
    }
    return { status: 'ready', store: services.store.kind };
  });
}
