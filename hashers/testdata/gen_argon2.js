// Writes npm argon2 vectors (see gen.sh): PHC strings whose parameters it
// writes as m=,p=,t=. Run with NODE_PATH pointing at a node_modules
// holding argon2.
const argon2 = require("argon2");
const version = JSON.parse(require("fs").readFileSync(require("path").join(process.env.NODE_PATH, "argon2", "package.json"))).version;
const passwords = [
  "correct horse battery staple",
  "",
  "p\u00e4ssw\u00f6rd",
  "cafe\u0301",
  "\u{1f511} \u043a\u043b\u044e\u0447 \u5bc6\u7801",
  "L".repeat(100),
];
const lib = `node ${process.version} argon2 ${version}`;
async function emit(pw, opts, def) {
  const h = await argon2.hash(pw, opts);
  if (!(await argon2.verify(h, pw)) || (await argon2.verify(h, "not-" + pw))) throw new Error("self-check");
  const refused = [];
  const b = Buffer.from(pw, "utf8");
  if (b.length > 72) refused.push(b.subarray(0, 72).toString("utf8"), pw.slice(0, -1), pw + "L");
  if (pw.normalize("NFD") !== pw) refused.push(pw.normalize("NFD"));
  for (const r of refused) if (await argon2.verify(h, r)) throw new Error("refused candidate matched");
  const scheme = h.startsWith("$argon2id$") ? "argon2id" : "argon2i";
  console.log(JSON.stringify({ lib, scheme, password: pw, wrong: "not-" + pw, hash: h, default: def, also: [], refused }));
}
(async () => {
  for (const pw of passwords) {
    await emit(pw, { memoryCost: 1024, timeCost: 1, parallelism: 1 }, false);
    await emit(pw, { type: argon2.argon2i, memoryCost: 512, timeCost: 2, parallelism: 2 }, false);
  }
  await emit(passwords[0], {}, true); // m=65536, t=3, p=4
})();
