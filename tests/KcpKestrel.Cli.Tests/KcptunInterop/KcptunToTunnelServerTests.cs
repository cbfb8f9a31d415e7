using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests.KcptunInterop;

/// <summary>kcptun-client → our <c>tunnel server</c> → a TCP echo target, through real TCP sockets at both ends.</summary>
public sealed class KcptunToTunnelServerTests
{
    /// <summary>smux version, compression, cipher and FEC: each value of each appears in this direction.</summary>
    public static TheoryData<string, string[]> Settings => new()
    {
        { "v1 snappy aes fec10/3", ["--smuxver", "1", "--crypt", "aes", "--datashard", "10", "--parityshard", "3"] },
        { "v2 nocomp salsa20 nofec", ["--smuxver", "2", "--nocomp", "--crypt", "salsa20", "--datashard", "0", "--parityshard", "0"] },
        { "v2 snappy none fec3/2", ["--smuxver", "2", "--crypt", "none", "--datashard", "3", "--parityshard", "2"] },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public async Task KcptunClient_ToTunnelServer_Echoes(string name, string[] settings)
    {
        await using var target = await ServeProcess.StartAsync("--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "echo");
        await using var server = await TunnelProcess.StartAsync("server", ["--listen", "127.0.0.1:0", "--target", target.Tcp!.ToString(), "--key", name, "--quiet", .. settings]);
        await using var client = await Kcptun.StartClientAsync(server.EndPoint, ["--key", name, "--quiet", .. settings]);

        var (sent, received) = await TcpEcho.RunAsync(client.EndPoint, 1024 * 1024, seed: 2, TestWaits.Bound);

        Assert.True(sent.SequenceEqual(received), $"{name}: echo differs; kcptun: {client.Log}\nours: {server.Error.Text}");
    }

    [Fact]
    public async Task KcptunClient_64MiBThroughTunnelServer_ShaMatchesBothWays()
    {
        await using var target = await ServeProcess.StartAsync("--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "echo");
        await using var server = await TunnelProcess.StartAsync("server", "--listen", "127.0.0.1:0", "--target", target.Tcp!.ToString(), "--quiet", "--mode", "fast3");
        await using var client = await Kcptun.StartClientAsync(server.EndPoint, "--quiet", "--mode", "fast3");

        var (sent, received) = await TcpEcho.RunAsync(client.EndPoint, 64L * 1024 * 1024, seed: 3, TimeSpan.FromSeconds(90));

        Assert.True(sent.SequenceEqual(received), $"echo differs; kcptun: {client.Log}\nours: {server.Error.Text}");
    }

    [Fact]
    public async Task KcptunClient_100ConcurrentStreamsThroughTunnelServer_AllEcho()
    {
        await using var target = await ServeProcess.StartAsync("--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "echo");
        await using var server = await TunnelProcess.StartAsync("server", "--listen", "127.0.0.1:0", "--target", target.Tcp!.ToString(), "--quiet", "--smuxver", "2");
        await using var client = await Kcptun.StartClientAsync(server.EndPoint, "--quiet", "--smuxver", "2");

        await TcpEcho.CheckConcurrentAsync(client.EndPoint, streams: 100, bytes: 64 * 1024, TimeSpan.FromSeconds(60));

        await server.StopAsync();
        Assert.Contains("\"streams\":100", server.Out.Lines[^1], StringComparison.Ordinal);
    }
}
