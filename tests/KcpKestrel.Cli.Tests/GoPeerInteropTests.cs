using System.Text.Json;
using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests;

/// <summary>Our bench against kcp-go's server, and kcp-go's client against our serve: echo 4 MiB, aes + FEC 10/3.</summary>
public sealed class GoPeerInteropTests : IClassFixture<GoPeer>
{
    private static readonly string[] GoKcp = ["-crypt", "aes", "-key", "interop", "-datashard", "10", "-parityshard", "3"];
    private static readonly string[] OurKcp = ["--crypt", "aes", "--key", "interop", "--datashard", "10", "--parityshard", "3", "--mode", "fast3"];
    private readonly GoPeer _peer;

    public GoPeerInteropTests(GoPeer peer) => _peer = peer;

    [Fact]
    public async Task OurBenchEchoesThroughTheGoServer()
    {
        using var server = _peer.Start(["-mode", "server", "-listen", "127.0.0.1:0", "-app", "echo", .. GoKcp]);
        try
        {
            var ready = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.StartsWith("listening ", ready, StringComparison.Ordinal);
            var address = ready!["listening ".Length..];
            var (code, output, _) = await CliRunner.RunAsync(["bench", "--kcp", address, "--workload", "echo", "--bytes", "4M", .. OurKcp]);
            var json = CliRunner.LastLineJson(output);
            Assert.True(json.GetProperty("ok").GetBoolean(), output.Text);
            Assert.Equal(0, code);
            Assert.Equal(4L << 20, json.GetProperty("bytes").GetInt64());
        }
        finally
        {
            server.StandardInput.Close();
            if (!server.WaitForExit(5000))
            {
                server.Kill();
            }
        }
    }

    [Fact]
    public async Task GoClientEchoesThroughOurServe()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--app", "echo", .. OurKcp]);
        using var client = _peer.Start(["-mode", "client", "-target", serve.Kcp.ToString(), "-workload", "echo", "-bytes", (4 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture), "-timeout", "60s", .. GoKcp]);
        var line = await client.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(90));
        await client.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(line);
        using var json = JsonDocument.Parse(line);
        Assert.True(json.RootElement.GetProperty("ok").GetBoolean(), line + await client.StandardError.ReadToEndAsync());
        Assert.Equal(4L << 20, json.RootElement.GetProperty("bytes").GetInt64());
        Assert.Equal(0, client.ExitCode);
    }
}
