//! engine unit tests (filled below)
