package redisstore

// TypicalSessionSize exports typicalSessionSize to the package's external
// tests.
const TypicalSessionSize = typicalSessionSize
