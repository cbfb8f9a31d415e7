using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using KcpKestrel.Cli.Serve;
using KcpKestrel.Transport.UserTcp;

namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>
/// The kernel as the server: the stack opens the connection (<see cref="UserTcpConnectionFactory"/>, in this process,
/// its TUN device created inside the test's namespace) to a kernel <see cref="TcpListener"/> there, and bytes go both
/// ways, every one checked, each side ending with a FIN the other reads as end of stream. Needs root and iproute2.
/// </summary>
public sealed class KernelServerInteropTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Size = 8 << 20;

    [Fact]
    public async Task StackConnectsToAKernelListener_BothDirectionsByteExact()
    {
        if (UserTcpInterop.Unavailable() is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        var local = UserTcpEndPoint.Parse("tun=ut1,address=10.77.1.1/24,port=1");
        await using var factory = ns.RunInside(() => new UserTcpConnectionFactory(local));
        using var listener = ns.RunInside(() =>
        {
            var l = new TcpListener(local.PeerAddress, 0);
            l.Start();
            return l;
        });

        var server = (IPEndPoint)listener.LocalEndpoint;
        var accepting = listener.AcceptSocketAsync();
        await using var connection = await factory.ConnectAsync(server).AsTask().WaitAsync(TestWaits.Bound);
        using var kernel = await accepting.WaitAsync(TestWaits.Bound);
        Assert.Equal(local.Address, ((IPEndPoint)kernel.RemoteEndPoint!).Address);

        // Both directions at once: the stack writes the pattern from offset 0, the kernel from offset 1,000,000.
        var stackSends = SendPatternAsync(connection.Transport.Output, 0);
        var kernelSends = KernelSendAsync(kernel, 1_000_000);
        var kernelReads = KernelReadHashAsync(kernel);
        var stackReads = StackReadHashAsync(connection.Transport.Input);

        await Task.WhenAll(stackSends, kernelSends).WaitAsync(TimeSpan.FromSeconds(60));
        var (kernelGot, kernelHash) = await kernelReads.WaitAsync(TimeSpan.FromSeconds(60));
        var (stackGot, stackHash) = await stackReads.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(Size, kernelGot);
        Assert.Equal(Size, stackGot);
        Assert.Equal(Hash(0), kernelHash);
        Assert.Equal(Hash(1_000_000), stackHash);
    }

    private static async Task SendPatternAsync(PipeWriter output, long start)
    {
        for (var offset = 0; offset < Size; offset += 16 * 1024)
        {
            var size = Math.Min(16 * 1024, Size - offset);
            TransferEndpoints.Fill(output.GetSpan(size)[..size], start + offset);
            output.Advance(size);
            var flushed = await output.FlushAsync();
            Assert.False(flushed.IsCompleted, "the stack's output completed early");
        }

        // A FIN: the kernel's reads end after the last byte.
        await output.CompleteAsync();
    }

    private static async Task KernelSendAsync(Socket socket, long start)
    {
        var buffer = new byte[64 * 1024];
        for (var offset = 0; offset < Size; offset += buffer.Length)
        {
            var size = Math.Min(buffer.Length, Size - offset);
            TransferEndpoints.Fill(buffer.AsSpan(0, size), start + offset);
            var sent = 0;
            while (sent < size)
            {
                sent += await socket.SendAsync(buffer.AsMemory(sent, size - sent));
            }
        }

        socket.Shutdown(SocketShutdown.Send);
    }

    private static async Task<(long Length, string Hash)> KernelReadHashAsync(Socket socket)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            total += read;
        }

        return (total, Convert.ToHexStringLower(hash.GetCurrentHash()));
    }

    private static async Task<(long Length, string Hash)> StackReadHashAsync(PipeReader input)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        while (true)
        {
            var read = await input.ReadAsync();
            foreach (var segment in read.Buffer)
            {
                hash.AppendData(segment.Span);
            }

            total += read.Buffer.Length;
            input.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }

        return (total, Convert.ToHexStringLower(hash.GetCurrentHash()));
    }

    private static string Hash(long start)
    {
        var bytes = ArrayPool<byte>.Shared.Rent(Size);
        try
        {
            TransferEndpoints.Fill(bytes.AsSpan(0, Size), start);
            return Convert.ToHexStringLower(SHA256.HashData(bytes.AsSpan(0, Size)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }
}
