/**
 * Jest globalSetup of the file kit's integration tests: the testkit's PostgreSQL (warehouse target),
 * an S3-compatible server (s3rver) and an SFTP server (sshd), all on 127.0.0.1, published to the
 * workers as DATAKIT_TEST_PG_URL, DATAKIT_TEST_S3_ENDPOINT and DATAKIT_TEST_SFTP (JSON).
 */
import pgSetup from '../../../packages/testkit/src/jest/global-setup.ts';
import { startS3 } from '../../../packages/testkit/src/services/s3.ts';
import { sftpToEnv, startSftp } from '../../../packages/testkit/src/services/sftp.ts';

type Stoppable = { stop(): Promise<void> };

export default async function globalSetup(): Promise<void> {
  await pgSetup();
  const g = globalThis as { __datakitServices?: Stoppable[] };
  g.__datakitServices ??= [];
  if (!process.env.DATAKIT_TEST_S3_ENDPOINT) {
    const s3 = await startS3();
    process.env.DATAKIT_TEST_S3_ENDPOINT = s3.endpoint;
    g.__datakitServices.push(s3);
  }
  if (!process.env.DATAKIT_TEST_SFTP) {
    const sftp = await startSftp();
    process.env.DATAKIT_TEST_SFTP = sftpToEnv(sftp);
    g.__datakitServices.push(sftp);
  }
}
