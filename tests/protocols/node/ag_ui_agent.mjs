// Runs one turn of our AG-UI route with the real `@ag-ui/client`: its HttpAgent posts the
// RunAgentInput, parses the SSE events against @ag-ui/core's schemas, verifies their order
// and applies them to the agent's messages and state.
//   node ag_ui_agent.mjs <url> <threadId> <question> [follow-up]
//     -> {events, messages, state, result, errors, runs}: a follow-up is a second run on the thread
import { HttpAgent } from "@ag-ui/client";

const [url, threadId, question, followUp] = process.argv.slice(2);
const agent = new HttpAgent({ url, threadId });
agent.addMessage({ id: "u1", role: "user", content: question });
const events = [];
const errors = [];
const timer = setTimeout(() => { agent.abortRun(); }, 60000);
let result = null;
const runs = [];
async function run(runId) {
  result = await agent.runAgent({ runId }, {
    onEvent: ({ event }) => { events.push({ type: event.type, name: event.name, toolCallName: event.toolCallName }); },
    onRunFailed: ({ error }) => { errors.push(String(error)); },
  });
  runs.push({ runId, state: structuredClone(agent.state), newMessages: result.newMessages.length });
}
try {
  await run("run-node-1");
  if (followUp) {
    agent.addMessage({ id: "u2", role: "user", content: followUp });
    await run("run-node-2");
  }
} catch (e) {
  errors.push(String(e));
} finally {
  clearTimeout(timer);
}
process.stdout.write(JSON.stringify({ events, messages: agent.messages, state: agent.state, result, errors, runs }));
