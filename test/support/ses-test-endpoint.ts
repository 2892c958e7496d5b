import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One SendEmail request as the endpoint received it: the raw message bytes and the request's other fields. */
export interface SesRequest {
  raw: Buffer;
  from: string | undefined;
  to: string[];
  feedbackTo: string | undefined;
  /** The SigV4 `Authorization` header: names the access key and the region, never the secret. */
  authorization: string;
}

export interface SesTestEndpoint {
  /** http://127.0.0.1:PORT, for `ses:REGION?endpoint=…`. */
  url: string;
  requests: SesRequest[];
  /** Answers the next sends with this AWS error (status, x-amzn-ErrorType name) instead of accepting them; undefined accepts. */
  failWith(error: { status: number; name: string; message: string } | undefined): void;
  close(): Promise<void>;
}

/** Largest request body the endpoint reads (SES's own limit for a raw message is 40 MB). */
const MAX_BODY = 50 * 1024 * 1024;

/**
 * An HTTP endpoint on 127.0.0.1 that answers Amazon SES v2's SendEmail (POST
 * /v2/email/outbound-emails, JSON with the raw message in base64) the way SES does: 200 with a
 * MessageId, or an error status with its type in `x-amzn-ErrorType`. The AWS SDK's real client
 * signs and sends to it; SES itself is out of reach of the tests.
 */
export async function startSesTestEndpoint(): Promise<SesTestEndpoint> {
  const requests: SesRequest[] = [];
  let failure: { status: number; name: string; message: string } | undefined;
  let count = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) request.destroy();
      else chunks.push(chunk);
    });
    request.on('end', () => {
      const answer = (status: number, body: unknown, errorType?: string): void => {
        response.writeHead(status, { 'content-type': 'application/json', ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }) });
        response.end(JSON.stringify(body));
      };
      if (request.method !== 'POST' || request.url !== '/v2/email/outbound-emails') {
        answer(404, { message: `not SendEmail: ${request.method} ${request.url}` }, 'NotFoundException');
        return;
      }
      if (failure !== undefined) {
        answer(failure.status, { message: failure.message }, failure.name);
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        Content?: { Raw?: { Data?: string } };
        FromEmailAddress?: string;
        Destination?: { ToAddresses?: string[] };
        FeedbackForwardingEmailAddress?: string;
      };
      const data = body.Content?.Raw?.Data;
      if (data === undefined) {
        answer(400, { message: 'only raw content is expected here' }, 'BadRequestException');
        return;
      }
      requests.push({
        raw: Buffer.from(data, 'base64'),
        from: body.FromEmailAddress,
        to: body.Destination?.ToAddresses ?? [],
        feedbackTo: body.FeedbackForwardingEmailAddress,
        authorization: String(request.headers.authorization ?? ''),
      });
      count += 1;
      answer(200, { MessageId: `0100-test-${count}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failWith(error) {
      failure = error;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
