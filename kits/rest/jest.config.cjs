const { preset } = require('../../jest.preset.cjs');
// The rest kit's services are its own local HTTP server (test/server), started per test file.
module.exports = preset(__dirname);
