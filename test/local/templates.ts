/** The minimal one-reservation templates live in lib/local, shared with the bench. */
export { writeAwsTemplate as awsTemplate, writeRosTemplate as rosTemplate } from '../../lib/local';
