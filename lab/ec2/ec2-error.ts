// An EC2 API error: its code is what the SDK turns into the thrown error's `name`.
export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** 400 for a client error, as EC2 answers nearly all; 503 for throttling. */
    readonly status = 400,
  ) {
    super(message);
  }
}
