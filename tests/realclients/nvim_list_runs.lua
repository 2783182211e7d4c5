-- nvim_list_runs.lua: Neovim's built-in LSP client (0.7+) starts guildls, asks
-- workspace/executeCommand guildls.listRuns {cwd = LR_CWD} and writes the answer to LR_OUT:
-- {"result": [...], "err": ...}. Run headless: nvim --headless -u NONE -c "luafile this.lua"
local env = vim.env
local out = { errors = {} }
local function finish()
  local f = assert(io.open(env.LR_OUT, "w"))
  f:write(vim.fn.json_encode(out))
  f:close()
  vim.cmd("qall!")
end
local ok, err = pcall(function()
  local initialized = false
  local client_id = vim.lsp.start_client({
    name = "guildls",
    cmd = { "sh", "-c", "exec " .. env.LR_SERVER_CMD },
    root_dir = env.LR_CWD,
    on_init = function() initialized = true end,
  })
  assert(client_id, "server did not start")
  vim.wait(30000, function() return initialized end, 10)
  assert(initialized, "initialize timed out")
  local client = vim.lsp.get_client_by_id(client_id)
  local done = false
  client.request("workspace/executeCommand",
    { command = "guildls.listRuns", arguments = { { cwd = env.LR_CWD } } },
    function(e, result)
      out.err = e
      out.result = result
      done = true
    end, 0)
  vim.wait(60000, function() return done end, 10)
  assert(done, "guildls.listRuns timed out")
  out.nvim_version = tostring(vim.version().major) .. "." .. tostring(vim.version().minor)
  client.stop()
end)
if not ok then table.insert(out.errors, tostring(err)) end
finish()
