using System.Net.Sockets;
using System.Text;

namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>
/// A kernel client with a tiny receive buffer that stops reading: its window closes, the stack's sends stall and
/// it probes the zero window (RFC 9293 3.8.6.1) until the client reads again; then every byte arrives.
/// </summary>
public sealed class ZeroWindowInteropTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Size = 4 << 20;

    [Fact]
    public async Task SlowReader_StackProbesTheZeroWindowThenCompletes()
    {
        if (UserTcpInterop.Unavailable() is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        await using var serve = await UserTcpServe.StartAsync(ns, "http");
        using var socket = ns.RunInside(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 });
        await socket.ConnectAsync(UserTcpServe.EndPoint);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /bytes/{Size} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));

        // Not reading for a while: the window the kernel offers falls to zero and stays there, so the stack can only
        // probe (its persist timer backs off from one RTO; three seconds see several probes).
        await Task.Delay(TimeSpan.FromSeconds(3));
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await SkipHeadersAsync(stream);
        var hash = await Transfers.HashAsync(stream, Size);

        Assert.Equal(KcpKestrel.Cli.Serve.TransferEndpoints.PatternSha256(Size), hash);
        var report = await serve.StopAsync();
        output.WriteLine(report.ToString());
        Assert.True(UserTcpServe.Counter(report, "zeroWindowProbes") > 0, $"zero-window probes in {report}");
    }

    /// <summary>Reads the response head byte by byte up to its blank line; fails unless it is a 200.</summary>
    private static async Task SkipHeadersAsync(Stream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            Assert.Equal(1, await stream.ReadAsync(one));
            head.Append((char)one[0]);
            Assert.True(head.Length < 4096, "a response head over 4 KiB");
        }

        Assert.StartsWith("HTTP/1.1 200", head.ToString(), StringComparison.Ordinal);
    }
}
