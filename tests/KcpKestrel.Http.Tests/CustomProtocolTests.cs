using System.Buffers;
using System.Net;
using KcpKestrel.Http.Tests.Infrastructure;
using KcpKestrel.Protocols;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace KcpKestrel.Http.Tests;

public sealed class CustomProtocolTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData("kcp")]
    [InlineData("tcp")]
    public async Task LengthPrefixedMessages_ComeBackReversed(string transport)
    {
        PipeReader input;
        PipeWriter output;
        await using var resources = new AsyncDisposables();
        if (transport == "kcp")
        {
            var connection = await fixture.Factory.ConnectAsync(fixture.Server.KcpFramed);
            resources.Add(connection);
            (input, output) = (connection.Transport.Input, connection.Transport.Output);
        }
        else
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(fixture.Server.TcpFramed);
            var stream = new NetworkStream(socket, ownsSocket: true);
            resources.Add(stream);
            (input, output) = (PipeReader.Create(stream), PipeWriter.Create(stream));
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var random = new Random(5);
        for (var i = 0; i < 200; i++)
        {
            var message = Payloads.Bytes(random.Next(LengthPrefixedEchoHandler.MaxMessageSize + 1), i);
            LengthPrefixedProtocol.Write(output, message);
            await output.FlushAsync(cts.Token);

            var reply = await ReadMessageAsync(input, cts.Token);
            Array.Reverse(message);
            Assert.Equal(Payloads.Sha256(message), Payloads.Sha256(reply));
        }
    }

    [Fact]
    public async Task OversizeMessage_ServerEndsTheConnection()
    {
        await using var connection = await fixture.Factory.ConnectAsync(fixture.Server.KcpFramed);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        LengthPrefixedProtocol.Write(connection.Transport.Output, new byte[LengthPrefixedEchoHandler.MaxMessageSize + 1]);
        await connection.Transport.Output.FlushAsync(cts.Token);
        while (true)
        {
            var result = await connection.Transport.Input.ReadAsync(cts.Token);
            connection.Transport.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                Assert.True(result.Buffer.IsEmpty);
                break;
            }
        }
    }

    private static async Task<byte[]> ReadMessageAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (LengthPrefixedProtocol.TryRead(ref buffer, out var message, LengthPrefixedEchoHandler.MaxMessageSize))
            {
                var bytes = message.ToArray();
                input.AdvanceTo(buffer.Start);
                return bytes;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new IOException("The connection ended mid-message.");
            }
        }
    }

    private sealed class AsyncDisposables : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> _items = [];

        public void Add(IAsyncDisposable item) => _items.Add(item);

        public async ValueTask DisposeAsync()
        {
            foreach (var item in _items)
            {
                await item.DisposeAsync();
            }
        }
    }
}
