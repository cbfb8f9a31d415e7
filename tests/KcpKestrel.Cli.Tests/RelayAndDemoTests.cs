using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests;

public sealed class RelayAndDemoTests
{
    [Fact]
    public async Task Relay_StdinCloses_ForwardsAndPrintsItsCounters()
    {
        using var target = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        target.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var stdin = new Pipe();
        using var reader = new StreamReader(stdin.Reader.AsStream());
        var output = new LineWriter();
        var relayRun = Task.Run(() => CliApp.RunAsync(
            ["relay", "--listen", "127.0.0.1:0", "--target", target.LocalEndPoint!.ToString()!, "--dup", "1", "--seed", "7"],
            new CliIo(output, new LineWriter(), reader, false),
            null,
            CancellationToken.None));
        var ready = await output.WaitForLineAsync(l => l.StartsWith("relaying", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Matches(@"^relaying 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$", ready);
        var listen = IPEndPoint.Parse(ready.Split(' ')[1]);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var buffer = new byte[64];
        for (var i = 0; i < 5; i++)
        {
            await client.SendToAsync(new byte[] { (byte)i }, listen);
        }

        // --dup 1: every datagram arrives twice.
        for (var i = 0; i < 10; i++)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await target.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        }

        await stdin.Writer.CompleteAsync();
        Assert.Equal(0, await relayRun.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(output.Lines, l => l == "upstream received=5 forwarded=10 dropped=0 duplicated=5 corrupted=0 reordered=0");
        Assert.Contains(output.Lines, l => l.StartsWith("downstream received=0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Demo_RunsAndPasses()
    {
        var (code, output, error) = await CliRunner.RunAsync("demo");
        Assert.True(code == 0, output.Text + error.Text);
        Assert.Contains("demo: all checks passed (SHA-256 of every echo matched)", output.Lines);
        Assert.Contains(output.Lines, l => l.StartsWith("echo 4 MiB      KCP via 3% loss relay", StringComparison.Ordinal) && l.EndsWith("sha256 ok", StringComparison.Ordinal));
        Assert.Contains(output.Lines, l => l.StartsWith("relay upstream   received=", StringComparison.Ordinal));
    }
}
