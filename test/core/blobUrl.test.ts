import { describe, expect, it } from "vitest";
import { parseAcceptedBlobSubject, parseAcceptedBlobUrl } from "../../src/core/blobUrl";
import { ValidationError } from "../../src/errors";

const NSG = "insights-logs-networksecuritygroupflowevent";
const VNET = "insights-logs-flowlogflowevent";
const accepted = { accountName: "flowlogsacct", containers: [NSG, VNET] };
const path =
  "resourceId=/SUBSCRIPTIONS/SUB/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG/y=2026/m=11" +
  "/d=22/h=12/m=00/macAddress=000D3A000001/PT1H.json";
const encodedPath = path.split("/").map(encodeURIComponent).join("/");
const topic = "/subscriptions/SUB/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/flowlogsacct";

describe("parseAcceptedBlobUrl", () => {
  it("accepts a public blob URL of the configured account, decoding the path", () => {
    const url = `https://flowlogsacct.blob.core.windows.net/${NSG}/${encodedPath}`;

    expect(parseAcceptedBlobUrl(url, accepted)).toEqual({ container: NSG, path });
  });

  it("accepts an emulator URL, whose account is the first path segment", () => {
    const url = `http://127.0.0.1:49152/flowlogsacct/${VNET}/${path}`;

    expect(parseAcceptedBlobUrl(url, accepted)).toEqual({ container: VNET, path });
  });

  it.each([
    ["not a URL", "PT1H.json", "not an http(s) URL"],
    ["ftp", `ftp://flowlogsacct.blob.core.windows.net/${NSG}/x/PT1H.json`, "not an http(s) URL"],
    [
      "foreign account",
      `https://otheracct.blob.core.windows.net/${NSG}/x/PT1H.json`,
      "account 'otheracct' is not the configured account",
    ],
    [
      "foreign emulator account",
      `http://localhost:10000/devstoreaccount1/${NSG}/x/PT1H.json`,
      "account 'devstoreaccount1'",
    ],
    [
      "not a blob host",
      `https://example.com/${NSG}/x/PT1H.json`,
      "host 'example.com' is not a storage account blob endpoint",
    ],
    [
      "other container",
      `https://flowlogsacct.blob.core.windows.net/secrets/x/PT1H.json`,
      "container 'secrets' is not one of the configured",
    ],
    ["no container", `https://flowlogsacct.blob.core.windows.net/`, "it names no container"],
    ["not PT1H.json", `https://flowlogsacct.blob.core.windows.net/${NSG}/x/PT1H.json.bak`, "not a flow log"],
    ["other case", `https://flowlogsacct.blob.core.windows.net/${NSG}/x/pt1h.json`, "not a flow log"],
    ["bare PT1H.json", `https://flowlogsacct.blob.core.windows.net/${NSG}/PT1H.json`, "not a flow log"],
    ["dot-dot", `https://flowlogsacct.blob.core.windows.net/${NSG}/a/../../secrets/PT1H.json`, "path traversal"],
    ["encoded dot-dot", `https://flowlogsacct.blob.core.windows.net/${NSG}/a/%2e%2E/PT1H.json`, "path traversal"],
    [
      "dot-dot behind an encoded slash",
      `https://flowlogsacct.blob.core.windows.net/${NSG}/a%2F..%2Fb/PT1H.json`,
      "path traversal",
    ],
    [
      "bad percent-encoding",
      `https://flowlogsacct.blob.core.windows.net/${NSG}/a%zz/PT1H.json`,
      "not valid percent-encoding",
    ],
    ["query", `https://flowlogsacct.blob.core.windows.net/${NSG}/x/PT1H.json?sig=SECRET`, "no query or fragment"],
  ])("refuses %s, naming the URL and the reason", (_case, url, reason) => {
    const parse = () => parseAcceptedBlobUrl(url, accepted);

    expect(parse).toThrow(ValidationError);
    expect(parse).toThrow(reason);
    expect(parse).toThrow(`'${url.split("?")[0]}`);
    expect(parse).not.toThrow("SECRET");
  });
});

describe("parseAcceptedBlobSubject", () => {
  it("accepts a subject whose topic names the configured account", () => {
    const subject = `/blobServices/default/containers/${NSG}/blobs/${path}`;

    expect(parseAcceptedBlobSubject(subject, topic, accepted)).toEqual({ container: NSG, path });
  });

  it.each([
    [
      "foreign account",
      `/blobServices/default/containers/${NSG}/blobs/x/PT1H.json`,
      topic.replace("flowlogsacct", "other"),
      "account 'other'",
    ],
    [
      "no account in the topic",
      `/blobServices/default/containers/${NSG}/blobs/x/PT1H.json`,
      "/subscriptions/SUB",
      "names no storage account",
    ],
    ["not a subject", "/containers/x", topic, "not a blob subject"],
    ["other container", "/blobServices/default/containers/other/blobs/x/PT1H.json", topic, "container 'other'"],
    ["dot-dot", `/blobServices/default/containers/${NSG}/blobs/x/../PT1H.json`, topic, "'..' segments"],
    ["not PT1H.json", `/blobServices/default/containers/${NSG}/blobs/x/PT1H.jsonl`, topic, "not a flow log"],
  ])("refuses %s", (_case, subject, eventTopic, reason) => {
    const parse = () => parseAcceptedBlobSubject(subject, eventTopic, accepted);

    expect(parse).toThrow(ValidationError);
    expect(parse).toThrow(reason);
    expect(parse).toThrow(`'${subject}'`);
  });
});
