using System.Buffers;

namespace KcpKestrel.Core.Fec;

/// <summary>
/// Systematic Reed-Solomon erasure code over GF(2^8) that produces the same parity as
/// klauspost/reedsolomon's <c>New(dataShards, parityShards)</c>. Shards are byte arrays coded over
/// the same <c>[offset, offset + length)</c> range. An instance keeps scratch state: one thread at a time.
/// </summary>
internal sealed class ReedSolomon
{
    /// <summary>GF(2^8) has 256 distinct Vandermonde rows.</summary>
    public const int MaxTotalShards = 256;

    // Bounds the memory held by cached inverse matrices of a codec of its own: forged loss patterns must not
    // grow it. A shared codec charges a budget of its FecCodecCache instead.
    private const int DecodeCacheBudgetBytes = 8 << 20;

    private readonly CodingMatrix _parity;
    private readonly int[] _parityRows;
    private readonly Dictionary<DecodeMatrixKey, CodingMatrix> _decodeCache = [];
    private readonly int _decodeCacheCapacity;
    private long _decodeCacheBytes;
    private readonly byte[][] _inputs;
    private readonly byte[][] _outputs;
    private readonly int[] _rows;
    private readonly int[] _valid;

    public ReedSolomon(int dataShards, int parityShards)
        : this(dataShards, parityShards, GaloisKernels.Best)
    {
    }

    public ReedSolomon(int dataShards, int parityShards, GfKernel kernel)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dataShards, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(parityShards, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dataShards + parityShards, MaxTotalShards, nameof(parityShards));
        if (!GaloisKernels.IsSupported(kernel))
        {
            throw new PlatformNotSupportedException($"GF kernel {kernel} is not supported on this machine.");
        }

        DataShards = dataShards;
        ParityShards = parityShards;
        TotalShards = dataShards + parityShards;
        Kernel = kernel;
        EncodingMatrix = GaloisMatrix.BuildEncodingMatrix(dataShards, TotalShards);
        _parity = new CodingMatrix(EncodingMatrix.AsSpan(dataShards * dataShards).ToArray(), parityShards, dataShards);
        _parityRows = new int[parityShards];
        for (var i = 0; i < parityShards; i++)
        {
            _parityRows[i] = i;
        }

        var entryBytes = dataShards * dataShards * (1 + CodingMatrix.NibbleTableSize + sizeof(ulong));
        _decodeCacheCapacity = Math.Clamp(DecodeCacheBudgetBytes / entryBytes, 4, 4096);
        _inputs = new byte[TotalShards][];
        _outputs = new byte[TotalShards][];
        _rows = new int[TotalShards];
        _valid = new int[dataShards];
    }

    public int DataShards { get; }

    public int ParityShards { get; }

    public int TotalShards { get; }

    public GfKernel Kernel { get; }

    /// <summary>The total x data encoding matrix, row-major (top square is the identity).</summary>
    public byte[] EncodingMatrix { get; }

    /// <summary>Inverted decode matrices currently cached, one per set of surviving shards used.</summary>
    public int CachedDecodeMatrices => _decodeCache.Count;

    /// <summary>The cache whose budget this codec's decode matrices are charged to; null: its own fixed budget.</summary>
    internal FecCodecCache? DecodeCacheOwner { get; init; }

    /// <summary>Drops every cached decode matrix (and its charge).</summary>
    internal void ClearDecodeCache()
    {
        _decodeCache.Clear();
        DecodeCacheOwner?.RefundDecodeMatrices(_decodeCacheBytes);
        _decodeCacheBytes = 0;
    }

    /// <summary>Fills the parity shards from the data shards.</summary>
    public void Encode(byte[][] shards, int offset, int length)
    {
        CheckShards(shards, offset, length, all: true, default);
        for (var p = 0; p < ParityShards; p++)
        {
            _outputs[p] = shards[DataShards + p];
        }

        GaloisKernels.Code(Kernel, _parity, _parityRows, shards, _outputs, offset, length);
        Array.Clear(_outputs);
    }

    /// <summary>True when every parity shard matches the data shards.</summary>
    public bool Verify(byte[][] shards, int offset, int length)
    {
        CheckShards(shards, offset, length, all: true, default);
        for (var p = 0; p < ParityShards; p++)
        {
            _outputs[p] = ArrayPool<byte>.Shared.Rent(offset + length);
        }

        try
        {
            GaloisKernels.Code(Kernel, _parity, _parityRows, shards, _outputs, offset, length);
            for (var p = 0; p < ParityShards; p++)
            {
                if (!_outputs[p].AsSpan(offset, length).SequenceEqual(shards[DataShards + p].AsSpan(offset, length)))
                {
                    return false;
                }
            }

            return true;
        }
        finally
        {
            for (var p = 0; p < ParityShards; p++)
            {
                ArrayPool<byte>.Shared.Return(_outputs[p]);
            }

            Array.Clear(_outputs);
        }
    }

    /// <summary>
    /// Rebuilds the missing data shards (those with <paramref name="present"/> false) in place from
    /// the first <see cref="DataShards"/> present shards. Missing shards' arrays must be supplied.
    /// False when fewer than <see cref="DataShards"/> shards are present.
    /// </summary>
    public bool ReconstructData(byte[][] shards, ReadOnlySpan<bool> present, int offset, int length)
        => Reconstruct(shards, present, offset, length, dataOnly: true);

    /// <summary>As <see cref="ReconstructData"/>, then re-encodes missing parity shards too.</summary>
    public bool Reconstruct(byte[][] shards, ReadOnlySpan<bool> present, int offset, int length)
        => Reconstruct(shards, present, offset, length, dataOnly: false);

    private bool Reconstruct(byte[][] shards, ReadOnlySpan<bool> present, int offset, int length, bool dataOnly)
    {
        if (present.Length != TotalShards)
        {
            throw new ArgumentException("One presence flag per shard is required.", nameof(present));
        }

        CheckShards(shards, offset, length, all: !dataOnly, present);
        var found = 0;
        for (var i = 0; i < TotalShards && found < DataShards; i++)
        {
            if (present[i])
            {
                _valid[found++] = i;
            }
        }

        if (found < DataShards)
        {
            return false;
        }

        var missingData = 0;
        for (var d = 0; d < DataShards; d++)
        {
            if (!present[d])
            {
                _rows[missingData] = d;
                _outputs[missingData] = shards[d];
                missingData++;
            }
        }

        if (missingData > 0)
        {
            var decode = GetDecodeMatrix();
            for (var i = 0; i < DataShards; i++)
            {
                _inputs[i] = shards[_valid[i]];
            }

            GaloisKernels.Code(Kernel, decode, _rows.AsSpan(0, missingData), _inputs, _outputs, offset, length);
        }

        if (!dataOnly)
        {
            var missingParity = 0;
            for (var p = 0; p < ParityShards; p++)
            {
                if (!present[DataShards + p])
                {
                    _rows[missingParity] = p;
                    _outputs[missingParity] = shards[DataShards + p];
                    missingParity++;
                }
            }

            GaloisKernels.Code(Kernel, _parity, _rows.AsSpan(0, missingParity), shards, _outputs, offset, length);
        }

        Array.Clear(_inputs);
        Array.Clear(_outputs);
        return true;
    }

    // The decode matrix depends only on which rows survived, so repeated loss patterns reuse it
    // (klauspost keeps an inversion tree for the same reason).
    private CodingMatrix GetDecodeMatrix()
    {
        var key = DecodeMatrixKey.From(_valid);
        if (_decodeCache.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var k = DataShards;
        var sub = new byte[k * k];
        for (var r = 0; r < k; r++)
        {
            EncodingMatrix.AsSpan(_valid[r] * k, k).CopyTo(sub.AsSpan(r * k, k));
        }

        if (!GaloisMatrix.TryInvert(sub, k))
        {
            // Cannot happen for a Vandermonde-derived matrix; kept as a guard against a broken table.
            throw new InvalidOperationException("Decode matrix is singular.");
        }

        var matrix = new CodingMatrix(sub, k, k);
        if (DecodeCacheOwner is null)
        {
            if (_decodeCache.Count >= _decodeCacheCapacity)
            {
                _decodeCache.Clear();
            }
        }
        else if (!DecodeCacheOwner.TryChargeDecodeMatrix(matrix.FootprintBytes))
        {
            // Larger than the whole shared budget: used once, not kept.
            return matrix;
        }

        _decodeCache.Add(key, matrix);
        _decodeCacheBytes += matrix.FootprintBytes;
        return matrix;
    }

    private void CheckShards(byte[][] shards, int offset, int length, bool all, ReadOnlySpan<bool> present)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (shards.Length < TotalShards)
        {
            throw new ArgumentException($"Expected {TotalShards} shards.", nameof(shards));
        }

        for (var i = 0; i < TotalShards; i++)
        {
            var shard = shards[i];
            if (shard is null || shard.Length < offset + length)
            {
                // Missing parity needs no buffer when only data is rebuilt, but requiring one keeps the rule simple.
                if (all || present.Length == 0 || present[i] || i < DataShards || shard is not null)
                {
                    throw new ArgumentException($"Shard {i} is missing or shorter than offset + length.", nameof(shards));
                }
            }
        }
    }
}
