// The component and trait definitions of the hub, each with its parameters: name, type, whether
// it is required, its default and its description, as `flotilla definitions show` prints them.

import { api } from "../api.js";
import { ErrorBox, Loading } from "../components.js";
import type { Definition } from "../../contract.js";
import { jsonText } from "../format.js";
import { useLoad } from "../hooks.js";

function DefinitionCard({ def, kind }: { def: Definition; kind: string }) {
  return (
    <article class="definition" id={`${kind}-${def.name}`} data-testid={`definition-${def.name}`}>
      <h3>
        {def.name} <span class="muted small">{def.workload}</span>
      </h3>
      {def.description ? <p>{def.description}</p> : null}
      {def.parameters.length === 0 ? (
        <p class="muted small">No parameters.</p>
      ) : (
        <table class="list compact">
          <thead>
            <tr>
              <th>Parameter</th>
              <th>Type</th>
              <th>Default</th>
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {def.parameters.map((p) => (
              <tr key={p.name}>
                <td>
                  <code>{p.name}</code>
                  {p.required ? (
                    <span class="required" title="required">
                      {" "}
                      *
                    </span>
                  ) : null}
                </td>
                <td>
                  <code>{p.type}</code>
                </td>
                <td>{p.default === undefined ? <span class="muted">—</span> : <code>{jsonText(p.default)}</code>}</td>
                <td>{p.description ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}

export function DefinitionsView() {
  const defs = useLoad(() => api.definitions(), []);
  return (
    <main>
      <div class="page-head">
        <h1>Definitions</h1>
        <span class="muted small">
          <span class="required">*</span> required
        </span>
      </div>
      {defs.error ? <ErrorBox error={defs.error} what="the definitions" /> : null}
      {!defs.data && !defs.error ? <Loading what="the definitions" /> : null}
      {defs.data ? (
        <>
          <h2>Components</h2>
          {defs.data.components.map((d) => (
            <DefinitionCard key={d.name} def={d} kind="component" />
          ))}
          <h2>Traits</h2>
          {defs.data.traits.map((d) => (
            <DefinitionCard key={d.name} def={d} kind="trait" />
          ))}
        </>
      ) : null}
    </main>
  );
}
