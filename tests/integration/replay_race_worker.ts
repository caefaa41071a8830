/**
 * One contender of the shared-state race (tests/integration/replay_shared_test.ts): opens the SQLite replay
 * store given as argv[0], says it is ready (file argv[1].ready-<pid>), waits for the start file argv[1], then tries counter 1 of each sender
 * s0…s<argv[2]-1> and prints the senders it won as JSON.
 */

import { ReplayStore } from "../../store/replay.ts";

const [path, startFile, senders] = Deno.args;
const store = ReplayStore.open(path);
Deno.writeTextFileSync(`${startFile}.ready-${Deno.pid}`, "");
while (true) {
  try {
    Deno.statSync(startFile);
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 5));
  }
}
const won: string[] = [];
for (let i = 0; i < Number(senders); i++) {
  if (store.accept(`s${i}`, 1).ok) won.push(`s${i}`);
}
store.close();
console.log(JSON.stringify(won));
