/**
 * JSON logs (pino). Request lines carry the request id, method, path (never the query
 * string, which may hold a refresh token), status and time. Authorization headers,
 * cookies, bodies and passwords are never logged; the paths below are redacted in case
 * an object carrying them is ever logged by mistake.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'tessera' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'password',
        '*.password',
        'refreshToken',
        '*.refreshToken',
        'refresh_token',
        'access_token',
        'headers.authorization',
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers.secret',
        'req.headers["x-identity-header"]',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
