using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests.KcptunInterop;

/// <summary>kcptun-client → kcptun-server → our echo: proves the harness before anything of ours is in the tunnel.</summary>
public sealed class KcptunBaselineTests
{
    [Fact]
    public async Task KcptunClient_ToKcptunServer_EchoesThroughTheTunnel()
    {
        await using var target = await ServeProcess.StartAsync("--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "echo");
        await using var server = await Kcptun.StartServerAsync(target.Tcp!, "--crypt", "aes", "--key", "k", "--quiet");
        await using var client = await Kcptun.StartClientAsync(server.EndPoint, "--crypt", "aes", "--key", "k", "--quiet");

        var (sent, received) = await TcpEcho.RunAsync(client.EndPoint, 1024 * 1024, seed: 1, TestWaits.Bound);

        Assert.True(sent.SequenceEqual(received), $"echo differs; client log: {client.Log}\nserver log: {server.Log}");
    }

    [Fact]
    public async Task KcptunClient_100ConcurrentStreamsToKcptunServer_AllEcho()
    {
        await using var target = await ServeProcess.StartAsync("--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "echo");
        await using var server = await Kcptun.StartServerAsync(target.Tcp!, "--quiet", "--smuxver", "2");
        await using var client = await Kcptun.StartClientAsync(server.EndPoint, "--quiet", "--smuxver", "2");

        await TcpEcho.CheckConcurrentAsync(client.EndPoint, streams: 100, bytes: 64 * 1024, TimeSpan.FromSeconds(60));
    }
}
