// Pure: whether the cluster, as its instances report it now, survives losing any one host. A master
// needs an in-sync replica on another host to take over its slots, and the takeover needs the votes
// of a majority of the slot-serving masters — so no host may hold so many masters that the others
// are no majority without it (two of three masters on one host: the failure a replica layout is for).
import { label, type ObservedNode } from './cluster-plan.js';
import { formatRanges } from './cluster-state.js';

/** Why losing some one host would leave slots unserved; [] when the cluster survives the loss of any one. */
export function hostLossRisks(nodes: readonly ObservedNode[]): string[] {
  const masters = nodes.filter((n) => n.me.role === 'master' && n.me.slots.length > 0);
  const risks: string[] = [];
  for (const m of masters) {
    const heirs = nodes.filter((n) => n.me.role === 'replica' && n.me.masterId === m.id && n.instance.host !== m.instance.host && n.replication.master_link_status === 'up');
    if (heirs.length === 0) risks.push(`${label(m.instance)} (slots ${formatRanges(m.me.slots)}) has no in-sync replica on another host: losing ${m.instance.host} loses those slots`);
  }
  const majority = Math.floor(masters.length / 2) + 1;
  for (const host of [...new Set(masters.map((m) => m.instance.host))]) {
    const here = masters.filter((m) => m.instance.host === host);
    if (masters.length - here.length < majority) {
      risks.push(
        `${host} holds ${here.length} of the ${masters.length} masters (${here.map((m) => label(m.instance)).join(', ')}): without it the other ${masters.length - here.length} are no majority (${majority}) to elect their replacements`,
      );
    }
  }
  return risks;
}
