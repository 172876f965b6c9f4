/**
 * The GraphQL explorer: GraphiQL against this API's /graphql, queries and mutations over
 * HTTP, subscriptions over graphql-ws on the same URL. In development the server hands
 * out a token for a made-up user (GET /graphql/explorer/dev-token); it goes into the
 * headers editor, whose `authorization` header is sent with every request and, for
 * subscriptions, as the graphql-ws connectionParams. Replacing it there acts as someone else.
 */
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './explorer.css';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createRoot } from 'react-dom/client';

interface DevToken {
  token: string;
  claims: { sub: string };
  expiresAt: string;
}

const DEFAULT_QUERY = `# Roundtable's client API. Ctrl-Enter runs the operation; the docs
# (book icon) list every field. Subscriptions (groupEvents) run over graphql-ws.
{
  me {
    id
    username
    plan
  }
}
`;

/** The development token, when this server gives one out (never in production). */
async function devToken(): Promise<DevToken | null> {
  try {
    const res = await fetch('/graphql/explorer/dev-token', { headers: { accept: 'application/json' }, cache: 'no-store' });
    return res.ok ? ((await res.json()) as DevToken) : null;
  } catch {
    return null;
  }
}

function Footer({ dev }: { dev: DevToken | null }) {
  return (
    <p data-testid="explorer-identity" style={{ margin: 0, fontSize: 12, opacity: 0.75 }}>
      {dev
        ? `Development token for "${dev.claims.sub}" until ${new Date(dev.expiresAt).toLocaleString()}; replace the authorization header to act as someone else.`
        : 'No development token here: put {"authorization": "Bearer <token>"} in the headers.'}
    </p>
  );
}

async function main() {
  const dev = await devToken();
  const url = new URL('/graphql', location.href).href;
  const fetcher = createGraphiQLFetcher({
    url,
    // The toolkit merges the headers editor into the connectionParams, so the editor's
    // authorization (the dev token unless replaced) signs subscriptions too.
    subscriptionUrl: url.replace(/^http/, 'ws'),
  });
  const headers = JSON.stringify(dev ? { authorization: `Bearer ${dev.token}` } : {}, null, 2);
  createRoot(document.getElementById('explorer')!).render(
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={DEFAULT_QUERY}
      initialHeaders={headers}
      defaultHeaders={headers}
      // The token is handed out afresh on every load; a stored one would only go stale.
      shouldPersistHeaders={false}
      showPersistHeadersSettings={false}
      defaultEditorToolsVisibility="headers"
    >
      <GraphiQL.Footer>
        <Footer dev={dev} />
      </GraphiQL.Footer>
    </GraphiQL>,
  );
}

void main();
