// Runs one turn of our AG-UI route with the real `@ag-ui/client`: its HttpAgent posts the
// RunAgentInput, parses the SSE events against @ag-ui/core's schemas, verifies their order
// and applies them to the agent's messages and state.
//   node ag_ui_agent.mjs <url> <threadId> <question>   -> {events, messages, state, result, errors}
import { HttpAgent } from "@ag-ui/client";

const [url, threadId, question] = process.argv.slice(2);
const agent = new HttpAgent({ url, threadId });
agent.addMessage({ id: "u1", role: "user", content: question });
const events = [];
const errors = [];
const timer = setTimeout(() => { agent.abortRun(); }, 60000);
let result = null;
try {
  result = await agent.runAgent({ runId: "run-node-1" }, {
    onEvent: ({ event }) => { events.push({ type: event.type, name: event.name, toolCallName: event.toolCallName }); },
    onRunFailed: ({ error }) => { errors.push(String(error)); },
  });
} catch (e) {
  errors.push(String(e));
} finally {
  clearTimeout(timer);
}
process.stdout.write(JSON.stringify({ events, messages: agent.messages, state: agent.state, result, errors }));
