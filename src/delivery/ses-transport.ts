import nodemailer from 'nodemailer';
import type SESTransport from 'nodemailer/lib/ses-transport/index.js';
import { BriefingError } from '../errors.js';
import { TransportError, type SendReceipt, type Transport } from './transport.js';

/** Where `BRIEFING_SMTP_URL=ses:[REGION][?endpoint=URL]` sends: a region (else the AWS SDK's own default) and an endpoint (else AWS's). */
export interface SesSettings {
  region: string | undefined;
  endpoint: string | undefined;
  /** `nodemailer SES eu-west-1`: no credentials are ever part of it (they come from the AWS SDK's usual chain). */
  description: string;
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

/**
 * Reads an `ses:` URL: `ses:` (the AWS SDK's region: AWS_REGION or the profile), `ses:eu-west-1`,
 * and `?endpoint=` with a percent-encoded https:// (or loopback http://) URL for a VPC endpoint or
 * a local SES. Credentials are not part of it: the AWS SDK finds them (environment, profile,
 * instance role) as it does for every AWS tool, so no key sits in BRIEFING_SMTP_URL.
 */
export function parseSesUrl(text: string): SesSettings {
  const invalid = (problem: string): BriefingError => new BriefingError('config', 'invalid-smtp-url', `BRIEFING_SMTP_URL ${problem}`);
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (url?.protocol !== 'ses:') throw invalid('is not an ses: URL (ses:, ses:eu-west-1, ses:eu-west-1?endpoint=https%3A%2F%2F…)');
  const region = url.pathname === '' ? undefined : url.pathname;
  if (region !== undefined && !REGION.test(region)) throw invalid(`ses: names no AWS region (ses:eu-west-1), not "${region.slice(0, 30)}"`);
  const unknown = [...url.searchParams.keys()].find((key) => key !== 'endpoint');
  if (unknown !== undefined) throw invalid(`ses: takes only ?endpoint=, not ?${unknown.slice(0, 30)}=`);
  if (url.hash !== '') throw invalid('ses: has a fragment (#)');
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined) {
    const parsed = URL.canParse(endpoint) ? new URL(endpoint) : undefined;
    const loopback = parsed?.hostname === '127.0.0.1' || parsed?.hostname === '[::1]' || parsed?.hostname === 'localhost';
    if (parsed === undefined || !(parsed.protocol === 'https:' || (parsed.protocol === 'http:' && loopback))) {
      throw invalid('ses: ?endpoint= must be a percent-encoded https:// URL (http:// only on this machine)');
    }
  }
  return { region, endpoint, description: `nodemailer SES ${region ?? '(AWS SDK region)'}${endpoint === undefined ? '' : ` at ${new URL(endpoint).host}`}` };
}

/** What the AWS SDK attaches to its errors. */
interface AwsError extends Error {
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  code?: string;
}

/** SES answers that stop the send: no credentials or no right to send, an account or identity that cannot send. */
const FATAL = new Set([
  'CredentialsProviderError',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'AccountSuspendedException',
  'SendingPausedException',
  'MailFromDomainNotVerifiedException',
]);
/** SES answers that mean later: over the sending rate or quota. */
const THROTTLED = new Set(['TooManyRequestsException', 'LimitExceededException', 'ThrottlingException']);
/** Failures in a row, with no message accepted in between, after which SES counts as unreachable. */
const DOWN_AFTER_FAILURES = 3;

/**
 * A Transport through nodemailer's SES transport (`BRIEFING_TRANSPORT=nodemailer` with
 * `BRIEFING_SMTP_URL=ses:…`), over the AWS SDK's SESv2 client (loaded on the first send, so other
 * commands do not pay for it). Each prepared message goes as it is (raw) to its envelope recipient;
 * its envelope sender (the VERP bounce address when returned mail is read) is where SES forwards
 * bounces and complaints. Errors map as the SMTP transports' do: throttling and SES's own faults
 * are temporary, a refused message permanent, and missing credentials, a refused signature, a
 * paused account or an SES that cannot be reached stop the send (it can resume).
 */
export function createSesTransport(settings: SesSettings): Transport {
  let transporter: Promise<nodemailer.Transporter<SESTransport.SentMessageInfo, SESTransport.Options>> | undefined;
  let failuresInARow = 0;
  let everAccepted = false;
  let closed = false;

  async function open(): Promise<nodemailer.Transporter<SESTransport.SentMessageInfo, SESTransport.Options>> {
    const { SESv2Client, SendEmailCommand } = await import('@aws-sdk/client-sesv2');
    const sesClient = new SESv2Client({
      ...(settings.region === undefined ? {} : { region: settings.region }),
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      // The sender retries with its own backoff and records each attempt; the SDK's retries would hide them.
      maxAttempts: 1,
    });
    return nodemailer.createTransport({ SES: { sesClient, SendEmailCommand } });
  }

  function classify(error: AwsError): TransportError {
    const status = error.$metadata?.httpStatusCode;
    const what = `SES: ${error.name}: ${error.message.replace(/\s+/g, ' ').trim().slice(0, 300)}`;
    if (FATAL.has(error.name) || status === 401 || status === 403) {
      return new TransportError(`${what} (${settings.description}: the send stops and can resume)`, { temporary: true, fatal: true, responseCode: status ?? null, notTaken: true, cause: error });
    }
    if (status === undefined) {
      // No answer from SES at all (refused connection, DNS, timeout).
      failuresInARow += 1;
      const down = !everAccepted || failuresInARow >= DOWN_AFTER_FAILURES;
      return new TransportError(down ? `${what} (${settings.description} cannot be reached; the send stops and can resume)` : what, { temporary: true, fatal: down, cause: error });
    }
    if (THROTTLED.has(error.name) || status === 429 || error.$fault === 'server' || status >= 500) {
      // Throttled: refused before it was taken; a server fault may come after SES took it.
      return new TransportError(what, { temporary: true, responseCode: status, notTaken: THROTTLED.has(error.name) || status === 429, cause: error });
    }
    // MessageRejected, BadRequestException: this message will not go, the others may.
    return new TransportError(what, { temporary: false, responseCode: status, notTaken: true, cause: error });
  }

  return {
    description: settings.description,
    async send(message): Promise<SendReceipt> {
      if (closed) throw new TransportError('the SES transport is closed', { temporary: true });
      transporter ??= open();
      try {
        const ses = await transporter;
        // A list, as SES's Destination.ToAddresses is: nodemailer hands the envelope's `to` over as it is given.
        const envelope = { from: message.envelope.from, to: [message.envelope.to] };
        const info = await ses.sendMail({ envelope, raw: message.raw, ses: { FeedbackForwardingEmailAddress: message.envelope.from } });
        everAccepted = true;
        failuresInARow = 0;
        return { reply: `SES message id ${info.response ?? '(none)'}` };
      } catch (error) {
        throw classify(error as AwsError);
      }
    },
    async close() {
      closed = true;
      // A client that never loaded has nothing to close; its error was the sends' to report.
      (await transporter?.catch(() => undefined))?.close();
    },
  };
}
