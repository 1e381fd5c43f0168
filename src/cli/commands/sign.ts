import { Command } from 'commander';
import { httpUrl, type CommandContext } from '../usage.js';

export function signCommand({ env }: CommandContext): Command {
  return new Command('sign')
    .description('print the signed image URL of /<pipeline>/<source>, with the first key of IMGFLEET_KEY')
    .argument('<path>', 'the URL path after the signature, e.g. /resize:400,output:auto/photos/cat.jpg')
    .option('--base-url <url>', 'print a full URL on this server, e.g. https://img.example.com', httpUrl)
    .addHelpText('after', '\nThe path is signed exactly as written: percent-encode what a URL cannot carry as is.')
    .action(async (path: string, options: { baseUrl?: string }) => {
      const { signedPath } = await import('../../server/signing.js');
      const signed = signedPath(path, env.signingKeys);
      console.log(options.baseUrl ? `${options.baseUrl.replace(/\/+$/, '')}${signed}` : signed);
    });
}
