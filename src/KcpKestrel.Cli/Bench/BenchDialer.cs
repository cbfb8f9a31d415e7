using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;

namespace KcpKestrel.Cli.Bench;

/// <summary>Opens bench connections: KCP through <see cref="KcpConnectionFactory"/>, TCP as a plain socket.</summary>
internal sealed class BenchDialer : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly KcpConnectionFactory? _factory;

    private BenchDialer(IPEndPoint target, KcpConnectionFactory? factory)
    {
        _target = target;
        _factory = factory;
    }

    public bool IsKcp => _factory is not null;

    public string Transport => IsKcp ? "kcp" : "tcp";

    public static BenchDialer Kcp(IPEndPoint target, KcpOptions options, int ioLoops = 1) =>
        new(target, new KcpConnectionFactory(new KcpClientOptions
        {
            Kcp = options,
            IoLoopCount = ioLoops,
            ConnectRetries = 5,
        }));

    public static BenchDialer Tcp(IPEndPoint target) => new(target, null);

    public async Task<BenchConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_factory is not null)
        {
            var connection = await _factory.ConnectAsync(_target, cancellationToken).ConfigureAwait(false);
            return new BenchConnection(connection);
        }

        var socket = new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_target, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new BenchConnection(socket);
    }

    public ValueTask DisposeAsync() => _factory?.DisposeAsync() ?? default;
}
