// Config fixtures for integration tests: small pipelines of real local commands.

export const PIPELINE_YAML = `
secrets: [DEPLOY_TOKEN]
roles:
  deployers: { users: [U0ALICE, U0BOB] }
  ops: { users: [U0OPS] }
channels:
  deployLog: C0DEPLOYLOG
environments:
  - name: staging
    aliases: [stage]
    steps:
      - name: Build
        run: [node, -e, "console.log('building ' + process.argv[1] + ' for ' + process.argv[2] + ' token ' + process.env.DEPLOY_TOKEN)", "{{version}}", "{{env}}"]
      - name: Migrate
        run: [node, -e, "console.log('migrating as', process.env.WHO)"]
        env: { WHO: "{{user}}" }
      - name: Release
        run: [node, -e, "setTimeout(() => console.log('released'), 150)"]
  - name: production
    aliases: [prod]
    deployers: [deployers]
    steps:
      - name: Build
        run: [node, -e, "console.log('build ok')"]
      - name: Deploy
        run: [node, -e, "console.error('boom: cannot reach cluster'); process.exit(3)"]
      - name: Smoke
        run: [node, -e, "console.log('never runs')"]
  - name: slow
    steps:
      - name: Wait
        run: [sleep, "30"]
        timeout: 1s
      - name: After
        run: [node, -e, "console.log('after')"]
  - name: long
    steps:
      - name: Prepare
        run: [node, -e, "console.log('prepared')"]
      - name: Long
        run: [sleep, "20"]
      - name: Finish
        run: [node, -e, "console.log('finished')"]
`;
