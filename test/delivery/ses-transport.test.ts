import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/config.js';
import { createTransport } from '../../src/delivery/create-transport.js';
import { createSesTransport, parseSesUrl } from '../../src/delivery/ses-transport.js';
import { parseSmtpUrl } from '../../src/delivery/smtp-url.js';
import type { Transport } from '../../src/delivery/transport.js';
import { startSesTestEndpoint, type SesTestEndpoint } from '../support/ses-test-endpoint.js';
import { testMessage as message, transportFailure as failure } from './transport-fixtures.js';
import pino from 'pino';

let endpoint: SesTestEndpoint | undefined;
let transport: Transport | undefined;

beforeAll(() => {
  // The AWS SDK's own credential chain reads them, as on an operator's machine.
  process.env.AWS_ACCESS_KEY_ID = 'AKIDBRIEFINGTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'aws-secret-access-key-of-the-test';
});

afterEach(async () => {
  await transport?.close();
  await endpoint?.close();
  transport = undefined;
  endpoint = undefined;
});

async function start(): Promise<{ endpoint: SesTestEndpoint; transport: Transport }> {
  endpoint = await startSesTestEndpoint();
  transport = createSesTransport(parseSesUrl(`ses:eu-west-1?endpoint=${encodeURIComponent(endpoint.url)}`));
  return { endpoint, transport };
}

describe('nodemailer SES transport (BRIEFING_TRANSPORT=nodemailer, BRIEFING_SMTP_URL=ses:REGION)', () => {
  it('is what BRIEFING_TRANSPORT=nodemailer with an ses: URL gives, and an ses: URL without it names the setting', async () => {
    const config = (env: Record<string, string>) => ({ env: readEnvironment(env), paths: { output: '/nonexistent' }, delivery: { concurrency: 2, timeoutMs: 5000 } }) as Parameters<typeof createTransport>[0];
    const made = await createTransport(config({ BRIEFING_TRANSPORT: 'nodemailer', BRIEFING_SMTP_URL: 'ses:eu-west-1' }), '2025-07-24', pino({ level: 'silent' }));
    expect(made.description).toBe('nodemailer SES eu-west-1');
    expect(() => parseSmtpUrl('ses:eu-west-1')).toThrow(/ses: is sent by nodemailer: set BRIEFING_TRANSPORT=nodemailer/);
    expect(() => readEnvironment({ BRIEFING_TRANSPORT: 'nodemailer', BRIEFING_SMTP_URL: 'ses:', BRIEFING_SMTP_OAUTH2_TOKEN: 'ya29.token' })).toThrow(/BRIEFING_SMTP_OAUTH2_TOKEN needs/);
  });

  it.each([
    ['ses:', { region: undefined, endpoint: undefined, description: 'nodemailer SES (AWS SDK region)' }],
    ['ses:us-east-1', { region: 'us-east-1', endpoint: undefined, description: 'nodemailer SES us-east-1' }],
    ['ses:eu-central-1?endpoint=https%3A%2F%2Fvpce-1.email.eu-central-1.vpce.amazonaws.com', { region: 'eu-central-1', endpoint: 'https://vpce-1.email.eu-central-1.vpce.amazonaws.com', description: 'nodemailer SES eu-central-1 at vpce-1.email.eu-central-1.vpce.amazonaws.com' }],
  ])('reads %s', (url, expected) => {
    expect(parseSesUrl(url)).toEqual(expected);
  });

  it.each([
    ['a region that is none', 'ses:mars', /names no AWS region/],
    ['an unknown option', 'ses:eu-west-1?accessKeyId=AKID', /takes only \?endpoint=/],
    ['an endpoint in the clear to another machine', 'ses:eu-west-1?endpoint=http%3A%2F%2Fses.example.org', /must be a percent-encoded https:\/\/ URL/],
    ['an endpoint that is no URL', 'ses:eu-west-1?endpoint=nowhere', /must be a percent-encoded https:\/\/ URL/],
  ])('refuses %s', (_label, url, pattern) => {
    expect(() => parseSesUrl(url)).toThrow(pattern);
  });

  it('sends the raw message to the envelope recipient only, signed for the region, with bounces forwarded to the envelope sender (the VERP address)', async () => {
    const { endpoint, transport } = await start();
    const outgoing = { ...message(1, 'zoë@example.com'), envelope: { from: 'bounce+7-abc@bounces.example.org', to: 'zoë@example.com' } };
    const receipt = await transport.send(outgoing);
    expect(receipt.reply).toBe('SES message id 0100-test-1');
    const [request] = endpoint.requests;
    expect(request?.raw.equals(outgoing.raw)).toBe(true);
    expect(request?.to).toEqual(['zoë@example.com']);
    expect(request?.feedbackTo).toBe('bounce+7-abc@bounces.example.org');
    expect(request?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDBRIEFINGTEST\/\d{8}\/eu-west-1\/ses\/aws4_request,/);
    expect(request?.authorization).not.toContain('aws-secret-access-key-of-the-test');
  });

  it.each([
    ['throttled (429 TooManyRequestsException)', 429, 'TooManyRequestsException', { temporary: true, fatal: false, bounce: false, responseCode: 429 }],
    ['over the daily quota (400 LimitExceededException)', 400, 'LimitExceededException', { temporary: true, fatal: false, bounce: false }],
    ['an SES fault (500 InternalServiceErrorException)', 500, 'InternalServiceErrorException', { temporary: true, fatal: false }],
    ['a refused message (400 MessageRejected)', 400, 'MessageRejected', { temporary: false, fatal: false, bounce: false, responseCode: 400 }],
    ['a paused account (400 SendingPausedException)', 400, 'SendingPausedException', { fatal: true }],
    ['a refused signature (403 InvalidSignatureException)', 403, 'InvalidSignatureException', { fatal: true }],
    ['an unverified MAIL FROM domain (400 MailFromDomainNotVerifiedException)', 400, 'MailFromDomainNotVerifiedException', { fatal: true }],
  ])('maps %s to a TransportError that says whether to retry or stop', async (_label, status, name, expected) => {
    const { endpoint, transport } = await start();
    endpoint.failWith({ status, name, message: `${name} from the test` });
    const error = await failure(transport.send(message(1)));
    expect(error).toMatchObject(expected);
    expect(error.message).toContain(name);
  });

  it('stops when SES cannot be reached before anything was accepted, and retries once it has accepted mail', async () => {
    const { endpoint, transport } = await start();
    await transport.send(message(1));
    await endpoint.close();
    endpoint.requests.length = 0;
    const later = await failure(transport.send(message(2)));
    expect(later).toMatchObject({ temporary: true, fatal: false });
  });
});
