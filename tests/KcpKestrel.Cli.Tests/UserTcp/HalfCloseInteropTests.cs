using System.Net.Sockets;
using KcpKestrel.Cli.Serve;

namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>
/// Half-close against <c>serve --usertcp --app echo</c>: a kernel client sends, shuts down its write side (FIN) and
/// still reads every echoed byte before the stack's own FIN. Needs root and iproute2.
/// </summary>
public sealed class HalfCloseInteropTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Size = 4 << 20;

    [Fact]
    public async Task ClientShutsDownSending_StillReadsEveryEcho()
    {
        if (UserTcpInterop.Unavailable() is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        await using var serve = await UserTcpServe.StartAsync(ns, "echo");
        using var socket = await KernelClient.ConnectAsync(ns, UserTcpServe.EndPoint);
        var sent = new byte[Size];
        TransferEndpoints.Fill(sent, 99);

        var received = new byte[Size + 1];
        var reading = ReadToEndAsync(socket, received);
        for (var offset = 0; offset < Size; offset += 64 * 1024)
        {
            await socket.SendAsync(sent.AsMemory(offset, Math.Min(64 * 1024, Size - offset)));
        }

        socket.Shutdown(SocketShutdown.Send);
        var total = await reading.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(Size, total);
        Assert.True(sent.AsSpan().SequenceEqual(received.AsSpan(0, total)), "the echo differs from what was sent");
        var report = await serve.StopAsync();
        output.WriteLine(report.ToString());
        Assert.Equal(0, UserTcpServe.Counter(report, "resetsSent"));
    }

    private static async Task<int> ReadToEndAsync(Socket socket, byte[] buffer)
    {
        var total = 0;
        int read;
        while ((read = await socket.ReceiveAsync(buffer.AsMemory(total))) > 0)
        {
            total += read;
        }

        return total;
    }
}
