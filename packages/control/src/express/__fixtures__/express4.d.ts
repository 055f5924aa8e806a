// The Express 4 dev dependency is installed under an alias; its API is typed like Express 5's
// for what the tests use.
declare module 'express4' {
  import express from 'express';
  export default express;
}
