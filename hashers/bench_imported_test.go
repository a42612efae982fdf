package hashers

import (
	"context"
	"testing"
	"time"
)

// importedDefaults are hashes of the formats added for imports, each at
// its library's default cost, made by the libraries themselves (with the
// generators in testdata and examples/quickstart/testdata), with their
// passwords.
var importedDefaults = []struct{ name, password, hash string }{
	{"wordpress-6.8-bcrypt-10", "correct horse battery staple", "$wp$2y$10$Ncz2fOl2ykMSDTdnWyQT4OaWsXJcZQhL99tXgyyqsDdWBA0tMIBLW"},
	{"wordpress-phpass-2^13", "correct horse battery staple", "$P$B8dafYFhg/oILQ2IKaOi9KVVZD6k1F0"},
	{"glibc-sha512-crypt-5000", "shadow-sha512-pw", "$6$qfVhamvQCRSBhibu$b2pl1zB.4lE0.ekv1MMN5eUaSiS5qmh.UVaIwbKDaoUVCvEKUhpzSD68qBuyewRdt.gsBmHem07G7mpIysHg1/"},
	{"glibc-sha256-crypt-5000", "shadow-sha256-pw", "$5$5tPmiofIR798PNs9$SuN028Z8wzqNurFjGH71E7X9HVv7esW4avWOZtQnxq3"},
	{"npm-argon2-m64M-t3-p4", "node-argon2-pw", "$argon2id$v=19$m=65536,p=4,t=3$hOAQiOtK72XkQ3toxpfoIQ$5T/bf7ldRKwerGu+ORy9+Jp9YcfNH2eA7NSESrcSoVQ"},
	{"spring-bcrypt-10", "password123", "{bcrypt}$2a$10$tJFRuDNlsk7Z2Vq/myZrruG0CdyWbTtGI6ExC2CCr/hzN1XCML5F."},
	{"spring-pbkdf2-v5_5", "password123", "{pbkdf2}ea0d7f97444486bb546be608139c9f7baef69a4bfb8b8b886c6445e93c00f810a10281bd6197dbb4"},
	{"spring-pbkdf2-v5_8", "password123", "{pbkdf2@SpringSecurity_v5_8}16247c57fac084a7e7c0f43542c370c47455bd96594a71499b6503f31144110507ba5fea6ddb22ab2e7b501916f2cf83"},
	{"spring-scrypt-v4_1", "password123", "{scrypt}$e0801$sp8WOD+r/rmX2iVSy3RMpRYzYYpET7eExm+iQZAS49Xi6Y74muTYu+sQTmiBmGLLNhUfKH+9FAjIwNnWI4Yi9g==$keXEluLKm/c3r/m3RnO+NU91nqN/9HpVexgqBX3qrXY="},
	{"spring-scrypt-v5_8", "password123", "{scrypt@SpringSecurity_v5_8}$100801$J5Ok1C0v5c2uNgiyLyQGsA==$YVmp+RMcpSaKM88TLemJDAXE2zDpNmyXQ8vYsqwz54s="},
	{"spring-argon2-v5_2", "password123", "{argon2}$argon2id$v=19$m=4096,t=3,p=1$x0jrpbS/zIL6GH1tjcV7Xg$5/6AHdcOO+c3TJoxs1yem74BgXJFYydykowLJk0v4aI"},
	{"spring-argon2-v5_8", "password123", "{argon2@SpringSecurity_v5_8}$argon2id$v=19$m=16384,t=2,p=1$L7E55hwDCwVLYZq+hi4mWw$IzxA5uj656a6TxQ1PraBM2LICbWOxBo3foVr5Rc1Etc"},
	{"spring-sha256", "password123", "{sha256}6c5d9ad109d3bebd441695903a36cc21ef68d6a925e11e305d199c68c1cd6797c690ce1313be4012"},
	{"spring-raw-hex80-both", "password123", "376d8e4af0494f7c4d3a590f8ff9d9fe34129f9436949299f651f5d70b29e6250c76e3d426bce9be"},
}

// BenchmarkVerifyImportedDefault measures a wrong-password Verify of each
// imported format at its library's default cost, and reports its ratio
// to a wrong-password Verify of the default argon2id hash measured in the
// same run (the work an unknown login costs with the default hasher):
// ratio-to-default-argon2id far from 1 is what the manager's timing
// equaliser has to cover.
func BenchmarkVerifyImportedDefault(b *testing.B) {
	ctx := context.Background()
	h := Default()
	base, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	baseline := func() time.Duration {
		start := time.Now()
		const n = 3
		for range n {
			_, _ = h.Verify(ctx, "wrong", base)
		}
		return time.Since(start) / n
	}
	for _, c := range importedDefaults {
		if _, err := h.Verify(ctx, c.password, c.hash); err != nil {
			b.Fatalf("%s: the vector does not verify: %v", c.name, err)
		}
		b.Run(c.name, func(b *testing.B) {
			ref := baseline()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				_, _ = h.Verify(ctx, "wrong", c.hash)
			}
			b.StopTimer()
			per := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(ref)/float64(per), "unknown/wrong-ratio")
		})
	}
}
