using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests.KcptunInterop;

/// <summary>Our <c>tunnel client</c> → kcptun-server → a TCP echo target, through real TCP sockets at both ends.</summary>
public sealed class TunnelClientToKcptunTests
{
    /// <summary>smux version, compression, cipher and FEC: each value of each appears in this direction too.</summary>
    public static TheoryData<string, string[]> Settings => new()
    {
        { "v1 nocomp none fec10/3", ["--smuxver", "1", "--nocomp", "--crypt", "none", "--datashard", "10", "--parityshard", "3"] },
        { "v2 snappy aes nofec", ["--smuxver", "2", "--crypt", "aes", "--datashard", "0", "--parityshard", "0"] },
        { "v1 snappy salsa20 fec3/2", ["--smuxver", "1", "--crypt", "salsa20", "--datashard", "3", "--parityshard", "2"] },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public async Task TunnelClient_ToKcptunServer_Echoes(string name, string[] settings)
    {
        await using var target = await ServeProcess.StartAsync("--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "echo");
        await using var server = await Kcptun.StartServerAsync(target.Tcp!, ["--key", name, "--quiet", .. settings]);
        await using var client = await TunnelProcess.StartAsync("client", ["--localaddr", "127.0.0.1:0", "--remoteaddr", server.EndPoint.ToString(), "--key", name, "--quiet", .. settings]);

        var (sent, received) = await TcpEcho.RunAsync(client.EndPoint, 1024 * 1024, seed: 4, TestWaits.Bound);

        Assert.True(sent.SequenceEqual(received), $"{name}: echo differs; kcptun: {server.Log}\nours: {client.Error.Text}");
    }

    [Fact]
    public async Task TunnelClient_64MiBThroughKcptunServer_ShaMatchesBothWays()
    {
        await using var target = await ServeProcess.StartAsync("--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "echo");
        await using var server = await Kcptun.StartServerAsync(target.Tcp!, "--quiet", "--mode", "fast3");
        await using var client = await TunnelProcess.StartAsync("client", "--localaddr", "127.0.0.1:0", "--remoteaddr", server.EndPoint.ToString(), "--quiet", "--mode", "fast3");

        var (sent, received) = await TcpEcho.RunAsync(client.EndPoint, 64L * 1024 * 1024, seed: 5, TimeSpan.FromSeconds(90));

        Assert.True(sent.SequenceEqual(received), $"echo differs; kcptun: {server.Log}\nours: {client.Error.Text}");
    }

    [Fact]
    public async Task TunnelClient_100ConcurrentStreamsOverTwoSessions_AllEcho()
    {
        await using var target = await ServeProcess.StartAsync("--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "echo");
        await using var server = await Kcptun.StartServerAsync(target.Tcp!, "--quiet", "--smuxver", "2");
        await using var client = await TunnelProcess.StartAsync("client", "--localaddr", "127.0.0.1:0", "--remoteaddr", server.EndPoint.ToString(), "--quiet", "--smuxver", "2", "--conn", "2");

        await TcpEcho.CheckConcurrentAsync(client.EndPoint, streams: 100, bytes: 64 * 1024, TimeSpan.FromSeconds(60));

        await client.StopAsync();
        Assert.Contains("\"streams\":100", client.Out.Lines[^1], StringComparison.Ordinal);
    }
}
