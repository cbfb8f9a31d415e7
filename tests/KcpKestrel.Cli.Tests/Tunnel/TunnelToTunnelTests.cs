using System.Net;
using System.Net.Sockets;
using KcpKestrel.Cli.Tests.Infrastructure;
using KcpKestrel.Cli.Tests.KcptunInterop;

namespace KcpKestrel.Cli.Tests.Tunnel;

/// <summary>
/// Our tunnel client → our tunnel server with what current kcptun added after Debian's 20210922 (QPP, port ranges),
/// which the Debian binaries cannot check; QPP's bytes are checked against xtaci/qpp's vectors elsewhere.
/// </summary>
public sealed class TunnelToTunnelTests
{
    [Fact]
    public async Task Tunnel_QppOnBothEnds_Echoes()
    {
        await using var target = await ServeProcess.StartAsync("--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "echo");
        await using var server = await TunnelProcess.StartAsync("server", "--listen", "127.0.0.1:0", "--target", target.Tcp!.ToString(), "--quiet", "--QPP", "--QPPCount", "7");
        await using var client = await TunnelProcess.StartAsync("client", "--localaddr", "127.0.0.1:0", "--remoteaddr", server.EndPoint.ToString(), "--quiet", "-QPP", "-QPPCount=7");

        var (sent, received) = await TcpEcho.RunAsync(client.EndPoint, 1024 * 1024, seed: 11, TestWaits.Bound);

        Assert.True(sent.SequenceEqual(received), $"echo differs; server: {server.Error.Text}\nclient: {client.Error.Text}");
        Assert.Contains(server.Error.Lines, l => l.Contains("QPP: true", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tunnel_QppOnServerOnly_TargetGetsOtherBytes()
    {
        // One end without QPP: the server takes the client's plain bytes for QPP ciphertext and hands the target their
        // "decryption". (An echo would hide this: the server's encryption of the echo undoes its decryption.)
        using var target = new TcpListener(IPAddress.Loopback, 0);
        target.Start();
        await using var server = await TunnelProcess.StartAsync("server", "--listen", "127.0.0.1:0", "--target", target.LocalEndpoint.ToString()!, "--quiet", "--QPP");
        await using var client = await TunnelProcess.StartAsync("client", "--localaddr", "127.0.0.1:0", "--remoteaddr", server.EndPoint.ToString(), "--quiet");
        var sent = new byte[4096];
        new Random(13).NextBytes(sent);

        using var user = new TcpClient();
        await user.ConnectAsync(client.EndPoint);
        await user.GetStream().WriteAsync(sent);
        using var accepted = await target.AcceptTcpClientAsync().WaitAsync(TestWaits.Bound);
        var arrived = new byte[sent.Length];
        await accepted.GetStream().ReadExactlyAsync(arrived).AsTask().WaitAsync(TestWaits.Bound);

        Assert.False(sent.AsSpan().SequenceEqual(arrived));
    }

    [Fact]
    public async Task Tunnel_PortRangeBothEnds_SessionsSpreadAndEcho()
    {
        const int Ports = 4;
        var first = UdpPortRange.FindFree(Ports);
        var range = $"127.0.0.1:{first}-{first + Ports - 1}";
        await using var target = await ServeProcess.StartAsync("--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "echo");
        await using var server = await TunnelProcess.StartAsync("server", "--listen", range, "--target", target.Tcp!.ToString(), "--quiet");
        await using var client = await TunnelProcess.StartAsync("client", "--localaddr", "127.0.0.1:0", "--remoteaddr", range, "--quiet", "--conn", "8");

        await TcpEcho.CheckConcurrentAsync(client.EndPoint, streams: 16, bytes: 64 * 1024, TimeSpan.FromSeconds(60));

        Assert.Contains(client.Error.Lines, l => l.Contains("remote address: " + range, StringComparison.Ordinal));
    }
}
