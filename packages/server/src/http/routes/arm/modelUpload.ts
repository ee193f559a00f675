/**
 * Reads a model upload (multipart/form-data) as it arrives: each `file` part is streamed
 * straight into the model store, `description` and `tags` are the only fields, and any
 * refusal stops parsing at once. The caller abandons the upload on failure.
 */
import busboy from 'busboy';
import type { Readable } from 'node:stream';
import { TesseraError } from '../../../errors.js';
import { MAX_MODEL_FILES } from '../../../workspace/models.js';
import type { MultipartBody } from '../../multipart.js';

const MAX_FIELD_BYTES = 64 * 1024;

/** Where an upload's parts go: a model version being made, or a run's artifacts. */
export interface UploadSink {
  addFile(path: string, stream: Readable): Promise<void>;
  setDescription(value: string): void;
  setTags(value: string): void;
}

function malformed(detail: string): TesseraError {
  return new TesseraError('InvalidRequestContent', `The multipart body is malformed: ${detail}.`);
}

/** Parses `body` into `upload`; rejects with the first refusal (the rest of the body is left unread). */
export function receiveModelUpload(body: MultipartBody, upload: UploadSink, uploadLimit: number): Promise<void> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': body.contentType },
      preservePath: true,
      defParamCharset: 'utf8',
      limits: {
        fieldNameSize: 100,
        fieldSize: MAX_FIELD_BYTES,
        fields: 8,
        files: MAX_MODEL_FILES,
        parts: MAX_MODEL_FILES + 8,
        headerPairs: 16,
        // Our own count stops the upload first; this is busboy's backstop.
        fileSize: uploadLimit + 1,
      },
    });
  } catch {
    return Promise.reject(malformed("the Content-Type has no boundary (send multipart/form-data; boundary=…)"));
  }
  const request = body.stream;
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const seenFields = new Set<string>();
    // Files are stored one after another, in the order they arrive.
    let stored: Promise<void> = Promise.resolve();
    const pending = new Set<Readable>();

    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      request.unpipe(parser);
      parser.removeAllListeners();
      // A late error from the parser must not become an unhandled 'error' event.
      parser.on('error', () => undefined);
      // Parts that will never end now: stop their writes, and answer once every write has
      // settled, so the caller's clean-up sees all this upload's claims.
      for (const stream of pending) stream.destroy(malformed('the upload was refused'));
      void stored.finally(() => reject(err));
    };

    parser.on('file', (name: string, stream: Readable, info: busboy.FileInfo) => {
      // Errors reach the upload through its pipeline; a part destroyed before its turn has none yet.
      stream.on('error', () => undefined);
      if (failed) {
        stream.resume();
        return;
      }
      if (name !== 'file') return fail(new TesseraError('InvalidParameter', `The upload has a file part named ${JSON.stringify(name.slice(0, 64))}: name each file part 'file'.`));
      if (info.filename === undefined || info.filename === '') return fail(new TesseraError('InvalidParameter', "A 'file' part has no filename: give each part its path in the model as its filename."));
      const filename = info.filename;
      pending.add(stream);
      stored = stored
        .then(() => upload.addFile(filename, stream))
        .catch((err: unknown) => fail(err))
        .finally(() => pending.delete(stream));
    });
    parser.on('field', (name: string, value: string, info: busboy.FieldInfo) => {
      if (failed) return;
      try {
        if (info.nameTruncated || info.valueTruncated) throw new TesseraError('InvalidParameter', `A field is longer than ${MAX_FIELD_BYTES} bytes or has an over-long name.`);
        if (name === 'file') throw new TesseraError('InvalidParameter', "A 'file' part has no filename: give each part its path in the model as its filename.");
        if (name !== 'description' && name !== 'tags') throw new TesseraError('InvalidParameter', `The upload has an unknown field ${JSON.stringify(name.slice(0, 64))}: the fields are 'file', 'description' and 'tags'.`);
        if (seenFields.has(name)) throw new TesseraError('InvalidParameter', `The field '${name}' appears more than once.`);
        seenFields.add(name);
        if (name === 'description') upload.setDescription(value);
        else upload.setTags(value);
      } catch (err) {
        fail(err);
      }
    });
    parser.on('filesLimit', () => fail(new TesseraError('InvalidParameter', `A model version holds at most ${MAX_MODEL_FILES} files.`)));
    parser.on('fieldsLimit', () => fail(new TesseraError('InvalidParameter', 'The upload has too many fields: the fields are description and tags.')));
    parser.on('partsLimit', () => fail(new TesseraError('InvalidParameter', 'The upload has too many parts.')));
    parser.on('error', (err: unknown) => fail(malformed(err instanceof Error ? err.message.replace(/[^\w .:-]/g, '').slice(0, 100) : 'unreadable')));
    parser.on('close', () => {
      void stored.then(() => {
        if (!failed) resolve();
      });
    });
    request.on('aborted', () => fail(malformed('the request was aborted')));
    request.on('error', () => fail(malformed('the request could not be read')));
    request.pipe(parser);
  });
}

/** The most bytes read and thrown away after a refusal, so the client sees the answer. */
const DRAIN_LIMIT = 32 * 1024 * 1024;

/**
 * Reads and discards what remains of a refused upload, so the client (still sending) can
 * read the answer; true when it all arrived, false when it was over {@link DRAIN_LIMIT}
 * (then the connection should close).
 */
export function discardRest(request: Readable): Promise<boolean> {
  if (request.readableEnded || request.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    let bytes = 0;
    const done = (complete: boolean) => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('close', onClose);
      resolve(complete);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > DRAIN_LIMIT) {
        request.pause();
        done(false);
      }
    };
    const onEnd = () => done(true);
    const onClose = () => done(request.readableEnded);
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('close', onClose);
    request.resume();
  });
}
