// Writes edge-case vectors made by Node's password libraries (see gen.sh
// and README.md): npm argon2 with every type it writes ($argon2d$ is
// refused by this package, see the README), non-default parameters, salt
// and hash lengths; bcrypt and bcryptjs at several costs, with $2a$ and
// $2b$, passwords over 72 bytes (the 72-byte cut inside a multi-byte
// character too) and non-ASCII ones. Run with NODE_PATH pointing at a
// node_modules holding argon2, bcrypt and bcryptjs.
const fs = require("fs");
const path = require("path");
const version = (name) => JSON.parse(fs.readFileSync(path.join(process.env.NODE_PATH, name, "package.json"))).version;
const passwords = [
  "correct horse battery staple",
  "",
  "p\u00e4ssw\u00f6rd",
  "cafe\u0301",
  "\u{1f511} \u043a\u043b\u044e\u0447 \u5bc6\u7801",
  "L".repeat(100),
];
// 80 bytes of two-byte characters, and 71 ASCII bytes then one: bcrypt's
// 72-byte cut falls inside a character; 300 bytes, past the 255 where
// OpenBSD's old $2a$ wrapped the length (neither library does).
const longOnes = ["\u00e9".repeat(40), "a".repeat(71) + "\u00e9tail", "x".repeat(300)];

function row(lib, scheme, pw, hash, extra) {
  return JSON.stringify(Object.assign({ lib, scheme, password: pw, wrong: "not-" + pw, hash, default: false, also: [], refused: [] }, extra));
}

function nfdOf(pw) {
  return pw.normalize("NFD") !== pw ? [pw.normalize("NFD")] : [];
}

async function argon2Rows() {
  const argon2 = require("argon2");
  const lib = `node ${process.version} argon2 ${version("argon2")}`;
  const cases = [
    { type: argon2.argon2id, memoryCost: 1024, timeCost: 2, parallelism: 3 }, // m not a multiple of 4·p
    { type: argon2.argon2id, memoryCost: 1000, timeCost: 1, parallelism: 3 },
    { type: argon2.argon2id, memoryCost: 64, timeCost: 1, parallelism: 8 }, // the minimum m = 8·p
    { type: argon2.argon2id, memoryCost: 2048, timeCost: 4, parallelism: 1, hashLength: 64, saltLength: 32 },
    { type: argon2.argon2id, memoryCost: 512, timeCost: 1, parallelism: 1, hashLength: 16, saltLength: 8 },
    { type: argon2.argon2id, memoryCost: 512, timeCost: 1, parallelism: 1, hashLength: 100 }, // Blake2b long output
    // Tags shorter than the default 32 bytes, down to Argon2's minimum 4.
    { type: argon2.argon2id, memoryCost: 256, timeCost: 1, parallelism: 1, hashLength: 12 },
    { type: argon2.argon2id, memoryCost: 256, timeCost: 1, parallelism: 1, hashLength: 8 },
    { type: argon2.argon2i, memoryCost: 256, timeCost: 1, parallelism: 1, hashLength: 4 },
    { type: argon2.argon2i, memoryCost: 256, timeCost: 3, parallelism: 2 },
    { type: argon2.argon2i, memoryCost: 4096, timeCost: 1, parallelism: 4, hashLength: 24 },
  ];
  for (const [i, opts] of cases.entries()) {
    const pws = i === 0 ? passwords : [passwords[i % passwords.length], passwords[(i + 4) % passwords.length]];
    for (const pw of pws) {
      const h = await argon2.hash(pw, opts);
      if (!(await argon2.verify(h, pw)) || (await argon2.verify(h, "not-" + pw))) throw new Error("self-check " + h);
      const refused = nfdOf(pw);
      const b = Buffer.from(pw, "utf8");
      if (b.length > 72) refused.push(b.subarray(0, 72).toString("utf8"), pw.slice(0, -1), pw + "L");
      for (const r of refused) if (await argon2.verify(h, r)) throw new Error("refused candidate matched");
      console.log(row(lib, h.startsWith("$argon2id$") ? "argon2id" : "argon2i", pw, h, { refused }));
    }
  }
  // Argon2d, which npm argon2 writes on request: recognised and refused.
  const pw = passwords[0];
  const h = await argon2.hash(pw, { type: argon2.argon2d, memoryCost: 256, timeCost: 1, parallelism: 1 });
  if (!(await argon2.verify(h, pw))) throw new Error("self-check");
  console.log(row(lib, "argon2d", pw, h, { refused_scheme: true }));
}

function bcryptRows() {
  for (const name of ["bcrypt", "bcryptjs"]) {
    const lib = require(name);
    const tag = `node ${process.version} ${name} ${version(name)}`;
    const emit = (pw, h, slow) => {
      if (!lib.compareSync(pw, h) || lib.compareSync("not-" + pw, h)) throw new Error("self-check " + h);
      const b = Buffer.from(pw, "utf8");
      const also = [];
      const refused = nfdOf(pw);
      if (b.length > 72) {
        // The library reads the first 72 bytes: any tail matches, one
        // byte less does not.
        also.push(pw + "more");
        const b72 = b.subarray(0, 72).toString("utf8");
        if (Buffer.from(b72, "utf8").equals(b.subarray(0, 72))) also.push(b72);
        const b71 = b.subarray(0, 71).toString("utf8");
        if (Buffer.from(b71, "utf8").equals(b.subarray(0, 71))) refused.push(b71);
        else refused.push(b.subarray(0, 70).toString("utf8"));
      }
      for (const a of also) if (!lib.compareSync(a, h)) throw new Error("also " + h);
      for (const r of refused) if (lib.compareSync(r, h)) throw new Error("refused candidate matched " + h);
      console.log(row(tag, "bcrypt", pw, h, Object.assign({ also, refused }, slow ? { slow: true } : {})));
    };
    for (const pw of passwords.concat(longOnes)) {
      emit(pw, lib.hashSync(pw, 4), false);
      // $2a$, which both write on request.
      emit(pw, lib.hashSync(pw, name === "bcrypt" ? lib.genSaltSync(5, "a") : lib.genSaltSync(5).replace("$2b$", "$2a$")), false);
    }
    for (const cost of [6, 8, 11]) emit(passwords[4], lib.hashSync(passwords[4], cost), cost > 6);
  }
}

(async () => {
  await argon2Rows();
  bcryptRows();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
