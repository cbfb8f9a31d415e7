using System.Buffers.Binary;
using KcpKestrel.Core.Crypto;
using KcpKestrel.Multicast.Fec;
using KcpKestrel.Multicast.Io;
using KcpKestrel.Multicast.Security;
using KcpKestrel.Multicast.Wire;

namespace KcpKestrel.Multicast.Codec;

/// <summary>
/// The packet layer between the protocol core and the socket, for <see cref="MulticastOptions.Crypt"/>
/// and FEC (<see cref="MulticastOptions.DataShards"/>). Sending: the packet, then (FEC) the group's
/// Parity packets once it is complete, each sealed. Receiving: open (forged: dropped, counted), the
/// replay check (dropped, counted), the diagnostic drop filter (so FEC can repair what it drops), then
/// the packet goes to the core and FEC keeps a copy, or a Parity packet may rebuild lost ones. No
/// socket, no clock of its own (<see cref="TimeProvider"/> gives the wall clock the nonces need).
/// </summary>
internal sealed class MulticastPacketCodec : IDisposable
{
    private readonly MulticastCipher? _cipher;
    private readonly FecStreamEncoder? _encoder;
    private readonly FecStreamDecoder? _decoder;
    private readonly ReceiveDropFilter? _dropFilter;
    private readonly TimeProvider _clock;
    private readonly ushort _node;
    private readonly Lock _sendLock = new();
    private readonly byte[] _sealBuffer;

    /// <param name="options">Validated.</param>
    /// <param name="dropFilter"><see cref="MulticastOptions.DiagnosticDropRate"/>'s filter, applied to wire packets before FEC; null: none.</param>
    /// <param name="clock">The wall clock of the nonces; null: <see cref="TimeProvider.System"/>.</param>
    public MulticastPacketCodec(MulticastOptions options, ReceiveDropFilter? dropFilter = null, TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        _dropFilter = dropFilter;
        _node = options.NodeId;
        Overhead = OverheadOf(options);
        _cipher = options.Crypt == "none" ? null : new MulticastCipher(options);
        if (options.DataShards > 0)
        {
            var maxPacket = options.DatagramSize - Overhead;
            _encoder = new FecStreamEncoder(options.DataShards, options.ParityShards, maxPacket);
            _decoder = new FecStreamDecoder(options.DataShards, options.ParityShards, maxPacket, options.MaxPublishers, MulticastOptions.Micros(options.PublisherTimeout))
            {
                Counters = Counters,
            };
        }

        _sealBuffer = GC.AllocateArray<byte>(options.DatagramSize + MulticastCipher.Overhead, pinned: true);
    }

    /// <summary>Bytes a Data packet must leave free in <see cref="MulticastOptions.DatagramSize"/>: the seal, and FEC's Parity header.</summary>
    public int Overhead { get; }

    public PacketCodecCounters Counters { get; } = new();

    /// <summary>This transport's sender id in nonces (0 without a cipher).</summary>
    public uint SenderId => _cipher?.SenderId ?? 0;

    /// <summary>True when <paramref name="options"/> ask for a cipher or FEC.</summary>
    public static bool IsNeeded(MulticastOptions options) => options.Crypt != "none" || options.DataShards > 0;

    /// <summary>See <see cref="Overhead"/>.</summary>
    public static int OverheadOf(MulticastOptions options) =>
        (options.Crypt == "none" ? 0 : MulticastCipher.Overhead) + (options.DataShards > 0 ? ParityPacket.Overhead : 0);

    /// <summary>Seals and sends a packet of the core (any thread), then the Parity packets it completed.</summary>
    public void Send(ReadOnlySpan<byte> packet, IDatagramSink wire)
    {
        lock (_sendLock)
        {
            SendOne(packet, wire);
            var parity = _encoder?.Add(packet) ?? 0;
            for (var p = 0; p < parity; p++)
            {
                SendOne(_encoder!.GetParity(p), wire);
                Counters.ParitySent++;
            }
        }
    }

    /// <summary>Handles one wire datagram (the receive thread): what survives goes to <paramref name="core"/>, rebuilt packets too.</summary>
    public void Receive(Span<byte> datagram, long now, IDatagramSink core)
    {
        var packet = datagram;
        if (_cipher is not null)
        {
            if (datagram.Length >= sizeof(uint) && BinaryPrimitives.ReadUInt32LittleEndian(datagram) == _cipher.SenderId)
            {
                // Our own datagram looped back: this transport needs none of them, so skip the decrypt.
                return;
            }

            switch (_cipher.Open(datagram, UnixMicros(), out var offset, out var length))
            {
                case CipherResult.Ok:
                    packet = datagram.Slice(offset, length);
                    break;
                case CipherResult.Replayed:
                    Counters.ReplaysDropped++;
                    return;
                case CipherResult.UnknownSender:
                    Counters.SendersRefused++;
                    return;
                default:
                    Counters.ForgedDropped++;
                    return;
            }
        }

        if (packet.Length < PacketHeader.Size || _dropFilter?.Drop(packet) == true)
        {
            return;
        }

        var kind = (PacketKind)packet[2];
        if (kind == PacketKind.Parity)
        {
            if (_decoder is null)
            {
                Counters.ParityDropped++;
            }
            else
            {
                _decoder.OnParity(packet, now, core);
            }

            return;
        }

        core.Send(packet);

        // Our own looped-back stream needs no repair here.
        if (kind == PacketKind.Data && _decoder is not null && BinaryPrimitives.ReadUInt16LittleEndian(packet[4..]) != _node)
        {
            _decoder.OnData(packet, now, core);
        }
    }

    public void Dispose() => _cipher?.Dispose();

    private void SendOne(ReadOnlySpan<byte> packet, IDatagramSink wire)
    {
        if (_cipher is null)
        {
            wire.Send(packet);
            return;
        }

        packet.CopyTo(_sealBuffer.AsSpan(MulticastCipher.HeaderSize));
        var length = _cipher.Seal(_sealBuffer, packet.Length, UnixMicros());
        wire.Send(_sealBuffer.AsSpan(0, length));
    }

    private long UnixMicros() => (_clock.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;
}
