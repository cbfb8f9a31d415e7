using KcpKestrel.Shared;
using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Transport.Kcp.Connections;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;

namespace KcpKestrel.Transport.Kcp.Sessions;

/// <summary>
/// One dialled session: a connected UDP socket of its own (a fresh local port, so the server keys
/// it apart from our other sessions) served by a shared client loop.
/// </summary>
internal sealed class KcpClientSocket : TimerWheelEntry, IDatagramReceiver, IKcpSessionOwner, ILoopWorkItem, IDisposable
{
    private const uint ProbeIntervalMs = 200;

    private readonly KcpOptions _options;
    private readonly ReadOnlyMemory<byte> _derivedKey;
    private readonly MemoryPool<byte> _pool;
    private readonly bool _waitForPeer;
    private readonly TaskCompletionSource<KcpConnection> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IDatagramChannel _channel;
    private readonly IPEndPoint _remote;
    private PacketCipher? _cipher;
    private KcpIoLoop? _loop;
    private KcpSession? _session;
    private bool _peerAnswered;

    // Address validation (our AEAD modes): probes are TOKEN datagrams, carrying the token of the server's
    // last RETRY once one came (see AddressValidation).
    private bool _validate;
    private byte[]? _token;
    private bool _closed;

    /// <summary>A dial of <paramref name="remote"/>; <paramref name="derivedKey"/> is the factory's <see cref="KcpCrypt.DeriveKey"/> of <paramref name="options"/>.</summary>
    public KcpClientSocket(System.Net.Sockets.Socket socket, IPEndPoint remote, KcpOptions options, ReadOnlyMemory<byte> derivedKey, MemoryPool<byte> pool, bool waitForPeer, KcpIoLoop loop)
    {
        _derivedKey = derivedKey;
        _remote = remote;
        _options = options;
        _pool = pool;
        _waitForPeer = waitForPeer;
        _channel = loop.CreateChannel(socket, this, DatagramSlot.SizeFor(options.Mtu), options.IoOverrides.Gso, options.IoOverrides.Gro);
    }

    public Task<KcpConnection> Connected => _connected.Task;

    /// <summary>Runs on the loop: registers the socket, opens the session, sends the first probe.</summary>
    public void Execute(KcpIoLoop loop, uint now)
    {
        if (_closed)
        {
            _channel.Dispose();
            return;
        }

        _loop = loop;
        try
        {
            _cipher = KcpCrypt.Create(_options, _derivedKey.Span);
            loop.AddChannel(_channel);
            var conv = (uint)RandomNumberGenerator.GetInt32(1, int.MaxValue);
            var key = UdpAddressKey.From(_remote);
            _session = new KcpSession(loop, _channel, key, [], conv, _options, _cipher, this, now)
            {
                ReplayWindow = _cipher.SupportsReplayWindow ? new ReplayWindow() : null,
            };
            var connection = new KcpConnection(_session, _channel.Socket.LocalEndPoint!, new KcpEndPoint(_remote), _pool, _options);
            _session.Attach(connection);
            _validate = AddressValidation.AppliesTo(_options, _cipher);
            if (_validate)
            {
                // The server opens nothing before we echo its token: ask for one at once, whatever we send next.
                _session.SendTokenProbe(default);
                if (!_waitForPeer)
                {
                    loop.Timers.Schedule(this, now + ProbeIntervalMs);
                }
            }

            if (_waitForPeer)
            {
                if (!_validate)
                {
                    _session.SendControl((byte)KcpCommand.WindowAsk);
                }

                loop.Timers.Schedule(this, now + ProbeIntervalMs);
            }
            else
            {
                _connected.TrySetResult(connection);
            }
        }
        catch (Exception ex)
        {
            _connected.TrySetException(ex);
            Abandon();
        }
    }

    public void OnDatagram(IDatagramChannel channel, Span<byte> datagram, ReadOnlySpan<byte> sockaddr, uint now)
    {
        if (_session is null || _cipher is null)
        {
            return;
        }

        var opened = _cipher.Open(datagram, _session.ReplayWindow, out var offset, out var length);
        if (opened != CipherResult.Ok)
        {
            _loop!.Counters.DroppedCipher++;
            return;
        }

        var payload = datagram.Slice(offset, length);
        if (_cipher.SupportsReplayWindow && PathValidation.TryAnswer(_session, payload))
        {
            // The server checks a new address of ours (we were rebound): answered from wherever we now send.
            return;
        }

        if (_validate && AddressValidation.TryRead(payload, out var conv, out var cmd, out var token, out _))
        {
            if (cmd == AddressValidation.RetryCommand && conv == _session.Conv && !_session.IsEnded)
            {
                // Authenticated (only a key holder seals one): echo the token at once, and in later probes.
                _token ??= new byte[AddressTokens.Size];
                token.CopyTo(_token);
                _session.SendTokenProbe(_token);
            }

            return;
        }

        if (!_peerAnswered)
        {
            _peerAnswered = true;
            _loop!.Timers.Remove(this);
            _connected.TrySetResult(_session.Connection!);
        }

        _session.OnPacket(payload, now, datagram.Length);
    }

    /// <summary>Probe again until the server answers (the dial's own timeout bounds this).</summary>
    public override void OnTimer(uint now)
    {
        if (_peerAnswered || _closed || _session is null || _session.IsEnded)
        {
            return;
        }

        if (_validate)
        {
            _session.SendTokenProbe(_token);
        }
        else
        {
            _session.SendControl((byte)KcpCommand.WindowAsk);
        }

        _loop!.Timers.Schedule(this, now + ProbeIntervalMs);
    }

    public void OnSessionEnded(KcpSession session)
    {
        _closed = true;
        _loop?.Timers.Remove(this);
        _connected.TrySetException(new IOException("The KCP session ended before the server answered."));
    }

    public void OnSessionReleased(KcpSession session)
    {
        // The socket must outlive the close signal's repeats; RemoveChannel flushes first.
        _loop?.RemoveChannel(_channel);
        _cipher?.Dispose();
    }

    /// <summary>Gives up a dial that timed out or was cancelled. Any thread.</summary>
    public void Abandon()
    {
        if (_loop is null)
        {
            _closed = true;
            return;
        }

        _loop.Post(new AbandonWork(this));
    }

    /// <summary>Closes the socket of a dial that never reached its loop.</summary>
    public void Dispose() => _channel.Dispose();

    private sealed class AbandonWork(KcpClientSocket owner) : ILoopWorkItem
    {
        public void Execute(KcpIoLoop loop, uint now)
        {
            if (owner._session is { IsEnded: false } session)
            {
                session.End(Transport.Kcp.KcpCloseReason.Aborted, sendClose: owner._peerAnswered);

                // Nobody got this connection: release the session's engine here.
                session.Dispose();
            }
            else if (owner._session is null && !owner._closed)
            {
                owner._closed = true;
                loop.RemoveChannel(owner._channel);
            }
        }
    }
}
