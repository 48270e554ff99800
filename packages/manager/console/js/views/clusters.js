import { listAll } from "../api.js";
import { ago, badge, h, table } from "../dom.js";

/** How often the list (and so every member's liveness) is read again. */
const REFRESH_MS = 3000;

const address = (member) => (member.ip.includes(":") ? `[${member.ip}]:${member.port}` : `${member.ip}:${member.port}`);

function memberRow(member, extra = []) {
  return h(
    "tr",
    { "data-member": member.hostname },
    h("td", {}, member.hostname),
    h("td", { class: "mono" }, address(member)),
    ...extra.map((cell) => h("td", {}, cell)),
    h("td", {}, badge(member.state)),
    h("td", {}, ago(member.last_keepalive_at)),
  );
}

function clusterCard(cluster, schedulers, seedPeers, canWrite) {
  const config = cluster.config ?? {};
  const facts = [
    ["Candidate parents", config.candidateParentLimit],
    ["Filter parents", config.filterParentLimit],
    ["Peer load limit", cluster.client_config?.loadLimit],
    ["Config revision", cluster.config_revision],
  ];
  return h(
    "section",
    { class: "card cluster", "data-cluster-id": cluster.id, "aria-labelledby": `cluster-${cluster.id}-name` },
    h(
      "header",
      { class: "card-head" },
      h("h2", { id: `cluster-${cluster.id}-name` }, cluster.name),
      cluster.is_default ? h("span", { class: "badge default" }, "default") : null,
      h("span", { class: "spacer" }),
      h("a", { class: "button secondary", href: `#/clusters/${cluster.id}` }, canWrite ? "Edit" : "Details"),
    ),
    cluster.bio ? h("p", { class: "bio" }, cluster.bio) : null,
    h("dl", { class: "facts" }, facts.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value ?? "—")])),
    h("h3", {}, "Schedulers"),
    table(
      ["Host", "Address", "State", "Last keepalive"],
      schedulers.map((s) => memberRow(s)),
      "no scheduler registered",
    ),
    h("h3", {}, "Seed peers"),
    table(
      ["Host", "Address", "Type", "State", "Last keepalive"],
      seedPeers.map((s) => memberRow(s, [s.type])),
      "no seed peer registered",
    ),
  );
}

export async function renderClusters(view) {
  const list = h("div", { class: "clusters" });
  const updated = h("span", { class: "muted updated" });
  view.main.replaceChildren(
    h(
      "header",
      { class: "page-head" },
      h("h1", {}, "Scheduler clusters"),
      updated,
      h("span", { class: "spacer" }),
      view.canWrite ? h("a", { class: "button", href: "#/clusters/new" }, "New cluster") : null,
    ),
    list,
  );
  await view.every(REFRESH_MS, async () => {
    const [clusters, schedulers, seedPeers] = await Promise.all([listAll("/scheduler-clusters"), listAll("/schedulers"), listAll("/seed-peers")]);
    if (view.signal.aborted) return;
    list.replaceChildren(
      ...clusters.map((cluster) =>
        clusterCard(
          cluster,
          schedulers.filter((s) => s.scheduler_cluster_id === cluster.id),
          seedPeers.filter((s) => cluster.seed_peer_cluster_ids.includes(s.seed_peer_cluster_id)),
          view.canWrite,
        ),
      ),
    );
    if (clusters.length === 0) list.append(h("p", { class: "muted" }, "No scheduler clusters yet."));
    updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
  });
}
