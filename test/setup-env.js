// Tests never depend on the host's time zone: the suite runs once with TZ=UTC and once with
// TZ=Asia/Shanghai (scripts/test.js); code under test must give identical results.
process.env.NODE_ENV = 'test';
