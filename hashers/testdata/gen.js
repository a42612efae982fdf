// Writes password-hash test vectors made by Node's bcrypt libraries (see gen.sh).
// Run with NODE_PATH pointing at a node_modules holding bcrypt and bcryptjs.
const passwords = [
  "correct horse battery staple",
  "",
  "p\u00e4ssw\u00f6rd",
  "cafe\u0301",
  "\u{1f511} \u043a\u043b\u044e\u0447 \u5bc6\u7801",
  "L".repeat(100),
];
for (const name of ["bcrypt", "bcryptjs"]) {
  const lib = require(name);
  const version = JSON.parse(require("fs").readFileSync(require("path").join(process.env.NODE_PATH, name, "package.json"))).version;
  const emit = (pw, h, def) => {
    if (!lib.compareSync(pw, h) || lib.compareSync("not-" + pw, h)) throw new Error("self-check");
    const b = Buffer.from(pw, "utf8");
    const also = b.length > 72 ? [b.subarray(0, 72).toString("utf8")] : [];
    for (const a of also) if (!lib.compareSync(a, h)) throw new Error("also");
    console.log(JSON.stringify({ lib: `node ${process.version} ${name} ${version}`, scheme: "bcrypt",
      password: pw, wrong: "not-" + pw, hash: h, default: def, also }));
  };
  for (const pw of passwords) emit(pw, lib.hashSync(pw, 4), false);
  emit(passwords[0], lib.hashSync(passwords[0], 10), true);
}
