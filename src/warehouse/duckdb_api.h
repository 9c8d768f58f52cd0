/* duckdb_api.h - the DuckDB C API as the driver calls it: through a table of
 * function pointers filled on first use (dlopen of libduckdb), so that commands
 * which never touch a warehouse (validate, status) do not pay for loading and
 * relocating the library at start-up (~30 M instructions, ~10 ms a run). Every
 * duckdb_* function the driver calls is listed in SL_DUCKDB_FUNCS and, below,
 * defined to its slot; one missing from the list is a link error, as sluice
 * does not link libduckdb. Included only from inside src/warehouse/. warehouse
 * stage. */
#ifndef SL_WAREHOUSE_DUCKDB_API_H
#define SL_WAREHOUSE_DUCKDB_API_H

#include "core/common.h"
#include "core/error.h"

/* duckdb.h declares some functions with "()" (C++ style); keep our strict
 * warnings for our own code only. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <duckdb.h>
#pragma GCC diagnostic pop

#define SL_DUCKDB_FUNCS(X)                                                     \
    X(duckdb_append_data_chunk)                                                \
    X(duckdb_appender_close)                                                   \
    X(duckdb_appender_column_count)                                            \
    X(duckdb_appender_column_type)                                             \
    X(duckdb_appender_create_ext)                                              \
    X(duckdb_appender_destroy)                                                 \
    X(duckdb_appender_error_data)                                              \
    X(duckdb_array_type_array_size)                                            \
    X(duckdb_array_type_child_type)                                            \
    X(duckdb_array_vector_get_child)                                           \
    X(duckdb_bind_add_result_column)                                           \
    X(duckdb_bind_get_parameter)                                               \
    X(duckdb_bind_int64)                                                       \
    X(duckdb_bind_null)                                                        \
    X(duckdb_bind_set_bind_data)                                               \
    X(duckdb_bind_set_error)                                                   \
    X(duckdb_bind_timestamp_tz)                                                \
    X(duckdb_bind_value)                                                       \
    X(duckdb_bind_varchar)                                                     \
    X(duckdb_close)                                                            \
    X(duckdb_column_count)                                                     \
    X(duckdb_column_logical_type)                                              \
    X(duckdb_column_name)                                                      \
    X(duckdb_connect)                                                          \
    X(duckdb_create_array_value)                                               \
    X(duckdb_create_bignum)                                                    \
    X(duckdb_create_bit)                                                       \
    X(duckdb_create_blob)                                                      \
    X(duckdb_create_bool)                                                      \
    X(duckdb_create_config)                                                    \
    X(duckdb_create_data_chunk)                                                \
    X(duckdb_create_date)                                                      \
    X(duckdb_create_decimal)                                                   \
    X(duckdb_create_double)                                                    \
    X(duckdb_create_enum_value)                                                \
    X(duckdb_create_float)                                                     \
    X(duckdb_create_hugeint)                                                   \
    X(duckdb_create_instance_cache)                                            \
    X(duckdb_create_int16)                                                     \
    X(duckdb_create_int32)                                                     \
    X(duckdb_create_int64)                                                     \
    X(duckdb_create_int8)                                                      \
    X(duckdb_create_interval)                                                  \
    X(duckdb_create_list_value)                                                \
    X(duckdb_create_logical_type)                                              \
    X(duckdb_create_map_value)                                                 \
    X(duckdb_create_null_value)                                                \
    X(duckdb_create_struct_value)                                              \
    X(duckdb_create_table_function)                                            \
    X(duckdb_create_time)                                                      \
    X(duckdb_create_time_ns)                                                   \
    X(duckdb_create_time_tz_value)                                             \
    X(duckdb_create_timestamp)                                                 \
    X(duckdb_create_timestamp_ms)                                              \
    X(duckdb_create_timestamp_ns)                                              \
    X(duckdb_create_timestamp_s)                                               \
    X(duckdb_create_timestamp_tz)                                              \
    X(duckdb_create_uhugeint)                                                  \
    X(duckdb_create_uint16)                                                    \
    X(duckdb_create_uint32)                                                    \
    X(duckdb_create_uint64)                                                    \
    X(duckdb_create_uint8)                                                     \
    X(duckdb_create_union_value)                                               \
    X(duckdb_create_uuid)                                                      \
    X(duckdb_create_varchar)                                                   \
    X(duckdb_create_varchar_length)                                            \
    X(duckdb_data_chunk_get_size)                                              \
    X(duckdb_data_chunk_get_vector)                                            \
    X(duckdb_data_chunk_reset)                                                 \
    X(duckdb_data_chunk_set_size)                                              \
    X(duckdb_decimal_internal_type)                                            \
    X(duckdb_decimal_scale)                                                    \
    X(duckdb_decimal_width)                                                    \
    X(duckdb_destroy_config)                                                   \
    X(duckdb_destroy_data_chunk)                                               \
    X(duckdb_destroy_error_data)                                               \
    X(duckdb_destroy_extracted)                                                \
    X(duckdb_destroy_logical_type)                                             \
    X(duckdb_destroy_pending)                                                  \
    X(duckdb_destroy_prepare)                                                  \
    X(duckdb_destroy_result)                                                   \
    X(duckdb_destroy_table_function)                                           \
    X(duckdb_destroy_value)                                                    \
    X(duckdb_disconnect)                                                       \
    X(duckdb_enum_dictionary_value)                                            \
    X(duckdb_enum_internal_type)                                               \
    X(duckdb_error_data_error_type)                                            \
    X(duckdb_error_data_message)                                               \
    X(duckdb_execute_pending)                                                  \
    X(duckdb_execute_prepared)                                                 \
    X(duckdb_extract_statements)                                               \
    X(duckdb_extract_statements_error)                                         \
    X(duckdb_fetch_chunk)                                                      \
    X(duckdb_free)                                                             \
    X(duckdb_function_get_local_init_data)                                     \
    X(duckdb_function_set_error)                                               \
    X(duckdb_get_int64)                                                        \
    X(duckdb_get_or_create_from_cache)                                         \
    X(duckdb_get_type_id)                                                      \
    X(duckdb_get_varchar)                                                      \
    X(duckdb_init_get_bind_data)                                               \
    X(duckdb_init_set_error)                                                   \
    X(duckdb_init_set_init_data)                                               \
    X(duckdb_init_set_max_threads)                                             \
    X(duckdb_list_type_child_type)                                             \
    X(duckdb_list_vector_get_child)                                            \
    X(duckdb_list_vector_get_size)                                             \
    X(duckdb_list_vector_reserve)                                              \
    X(duckdb_list_vector_set_size)                                             \
    X(duckdb_logical_type_get_alias)                                           \
    X(duckdb_map_type_key_type)                                                \
    X(duckdb_map_type_value_type)                                              \
    X(duckdb_open_ext)                                                         \
    X(duckdb_pending_error)                                                    \
    X(duckdb_pending_prepared_streaming)                                       \
    X(duckdb_prepare)                                                          \
    X(duckdb_prepare_error)                                                    \
    X(duckdb_query)                                                            \
    X(duckdb_register_table_function)                                          \
    X(duckdb_result_error)                                                     \
    X(duckdb_result_error_type)                                                \
    X(duckdb_result_return_type)                                               \
    X(duckdb_set_config)                                                       \
    X(duckdb_string_t_data)                                                    \
    X(duckdb_string_t_length)                                                  \
    X(duckdb_struct_type_child_count)                                          \
    X(duckdb_struct_type_child_name)                                           \
    X(duckdb_struct_type_child_type)                                           \
    X(duckdb_struct_vector_get_child)                                          \
    X(duckdb_table_function_add_parameter)                                     \
    X(duckdb_table_function_set_bind)                                          \
    X(duckdb_table_function_set_function)                                      \
    X(duckdb_table_function_set_init)                                          \
    X(duckdb_table_function_set_local_init)                                    \
    X(duckdb_table_function_set_name)                                          \
    X(duckdb_union_type_member_count)                                          \
    X(duckdb_union_type_member_type)                                           \
    X(duckdb_validity_row_is_valid)                                            \
    X(duckdb_validity_set_row_invalid)                                         \
    X(duckdb_vector_assign_string_element_len)                                 \
    X(duckdb_vector_ensure_validity_writable)                                  \
    X(duckdb_vector_get_data)                                                  \
    X(duckdb_vector_get_validity)                                              \
    X(duckdb_vector_size)

struct sl_duckdb_api {
#define SL_DUCKDB_SLOT(f) __typeof__(f) *f;
    SL_DUCKDB_FUNCS(SL_DUCKDB_SLOT)
#undef SL_DUCKDB_SLOT
};
extern struct sl_duckdb_api sl__ddb;

/* Load libduckdb once per process and fill sl__ddb: $SLUICE_DUCKDB_LIB if set,
 * else the library the build used, else "libduckdb.so" on the loader's path.
 * SL_OK, or -SL_EWAREHOUSE naming what failed (every later call gives the same
 * answer). Thread-safe. */
SL_NODISCARD int sl__duckdb_load(struct sl_error *err);

#ifndef SL_DUCKDB_API_IMPL
#define duckdb_append_data_chunk                (sl__ddb.duckdb_append_data_chunk)
#define duckdb_appender_close                   (sl__ddb.duckdb_appender_close)
#define duckdb_appender_column_count            (sl__ddb.duckdb_appender_column_count)
#define duckdb_appender_column_type             (sl__ddb.duckdb_appender_column_type)
#define duckdb_appender_create_ext              (sl__ddb.duckdb_appender_create_ext)
#define duckdb_appender_destroy                 (sl__ddb.duckdb_appender_destroy)
#define duckdb_appender_error_data              (sl__ddb.duckdb_appender_error_data)
#define duckdb_array_type_array_size            (sl__ddb.duckdb_array_type_array_size)
#define duckdb_array_type_child_type            (sl__ddb.duckdb_array_type_child_type)
#define duckdb_array_vector_get_child           (sl__ddb.duckdb_array_vector_get_child)
#define duckdb_bind_add_result_column           (sl__ddb.duckdb_bind_add_result_column)
#define duckdb_bind_get_parameter               (sl__ddb.duckdb_bind_get_parameter)
#define duckdb_bind_int64                       (sl__ddb.duckdb_bind_int64)
#define duckdb_bind_null                        (sl__ddb.duckdb_bind_null)
#define duckdb_bind_set_bind_data               (sl__ddb.duckdb_bind_set_bind_data)
#define duckdb_bind_set_error                   (sl__ddb.duckdb_bind_set_error)
#define duckdb_bind_timestamp_tz                (sl__ddb.duckdb_bind_timestamp_tz)
#define duckdb_bind_value                       (sl__ddb.duckdb_bind_value)
#define duckdb_bind_varchar                     (sl__ddb.duckdb_bind_varchar)
#define duckdb_close                            (sl__ddb.duckdb_close)
#define duckdb_column_count                     (sl__ddb.duckdb_column_count)
#define duckdb_column_logical_type              (sl__ddb.duckdb_column_logical_type)
#define duckdb_column_name                      (sl__ddb.duckdb_column_name)
#define duckdb_connect                          (sl__ddb.duckdb_connect)
#define duckdb_create_array_value               (sl__ddb.duckdb_create_array_value)
#define duckdb_create_bignum                    (sl__ddb.duckdb_create_bignum)
#define duckdb_create_bit                       (sl__ddb.duckdb_create_bit)
#define duckdb_create_blob                      (sl__ddb.duckdb_create_blob)
#define duckdb_create_bool                      (sl__ddb.duckdb_create_bool)
#define duckdb_create_config                    (sl__ddb.duckdb_create_config)
#define duckdb_create_data_chunk                (sl__ddb.duckdb_create_data_chunk)
#define duckdb_create_date                      (sl__ddb.duckdb_create_date)
#define duckdb_create_decimal                   (sl__ddb.duckdb_create_decimal)
#define duckdb_create_double                    (sl__ddb.duckdb_create_double)
#define duckdb_create_enum_value                (sl__ddb.duckdb_create_enum_value)
#define duckdb_create_float                     (sl__ddb.duckdb_create_float)
#define duckdb_create_hugeint                   (sl__ddb.duckdb_create_hugeint)
#define duckdb_create_instance_cache            (sl__ddb.duckdb_create_instance_cache)
#define duckdb_create_int16                     (sl__ddb.duckdb_create_int16)
#define duckdb_create_int32                     (sl__ddb.duckdb_create_int32)
#define duckdb_create_int64                     (sl__ddb.duckdb_create_int64)
#define duckdb_create_int8                      (sl__ddb.duckdb_create_int8)
#define duckdb_create_interval                  (sl__ddb.duckdb_create_interval)
#define duckdb_create_list_value                (sl__ddb.duckdb_create_list_value)
#define duckdb_create_logical_type              (sl__ddb.duckdb_create_logical_type)
#define duckdb_create_map_value                 (sl__ddb.duckdb_create_map_value)
#define duckdb_create_null_value                (sl__ddb.duckdb_create_null_value)
#define duckdb_create_struct_value              (sl__ddb.duckdb_create_struct_value)
#define duckdb_create_table_function            (sl__ddb.duckdb_create_table_function)
#define duckdb_create_time                      (sl__ddb.duckdb_create_time)
#define duckdb_create_time_ns                   (sl__ddb.duckdb_create_time_ns)
#define duckdb_create_time_tz_value             (sl__ddb.duckdb_create_time_tz_value)
#define duckdb_create_timestamp                 (sl__ddb.duckdb_create_timestamp)
#define duckdb_create_timestamp_ms              (sl__ddb.duckdb_create_timestamp_ms)
#define duckdb_create_timestamp_ns              (sl__ddb.duckdb_create_timestamp_ns)
#define duckdb_create_timestamp_s               (sl__ddb.duckdb_create_timestamp_s)
#define duckdb_create_timestamp_tz              (sl__ddb.duckdb_create_timestamp_tz)
#define duckdb_create_uhugeint                  (sl__ddb.duckdb_create_uhugeint)
#define duckdb_create_uint16                    (sl__ddb.duckdb_create_uint16)
#define duckdb_create_uint32                    (sl__ddb.duckdb_create_uint32)
#define duckdb_create_uint64                    (sl__ddb.duckdb_create_uint64)
#define duckdb_create_uint8                     (sl__ddb.duckdb_create_uint8)
#define duckdb_create_union_value               (sl__ddb.duckdb_create_union_value)
#define duckdb_create_uuid                      (sl__ddb.duckdb_create_uuid)
#define duckdb_create_varchar                   (sl__ddb.duckdb_create_varchar)
#define duckdb_create_varchar_length            (sl__ddb.duckdb_create_varchar_length)
#define duckdb_data_chunk_get_size              (sl__ddb.duckdb_data_chunk_get_size)
#define duckdb_data_chunk_get_vector            (sl__ddb.duckdb_data_chunk_get_vector)
#define duckdb_data_chunk_reset                 (sl__ddb.duckdb_data_chunk_reset)
#define duckdb_data_chunk_set_size              (sl__ddb.duckdb_data_chunk_set_size)
#define duckdb_decimal_internal_type            (sl__ddb.duckdb_decimal_internal_type)
#define duckdb_decimal_scale                    (sl__ddb.duckdb_decimal_scale)
#define duckdb_decimal_width                    (sl__ddb.duckdb_decimal_width)
#define duckdb_destroy_config                   (sl__ddb.duckdb_destroy_config)
#define duckdb_destroy_data_chunk               (sl__ddb.duckdb_destroy_data_chunk)
#define duckdb_destroy_error_data               (sl__ddb.duckdb_destroy_error_data)
#define duckdb_destroy_extracted                (sl__ddb.duckdb_destroy_extracted)
#define duckdb_destroy_logical_type             (sl__ddb.duckdb_destroy_logical_type)
#define duckdb_destroy_pending                  (sl__ddb.duckdb_destroy_pending)
#define duckdb_destroy_prepare                  (sl__ddb.duckdb_destroy_prepare)
#define duckdb_destroy_result                   (sl__ddb.duckdb_destroy_result)
#define duckdb_destroy_table_function           (sl__ddb.duckdb_destroy_table_function)
#define duckdb_destroy_value                    (sl__ddb.duckdb_destroy_value)
#define duckdb_disconnect                       (sl__ddb.duckdb_disconnect)
#define duckdb_enum_dictionary_value            (sl__ddb.duckdb_enum_dictionary_value)
#define duckdb_enum_internal_type               (sl__ddb.duckdb_enum_internal_type)
#define duckdb_error_data_error_type            (sl__ddb.duckdb_error_data_error_type)
#define duckdb_error_data_message               (sl__ddb.duckdb_error_data_message)
#define duckdb_execute_pending                  (sl__ddb.duckdb_execute_pending)
#define duckdb_execute_prepared                 (sl__ddb.duckdb_execute_prepared)
#define duckdb_extract_statements               (sl__ddb.duckdb_extract_statements)
#define duckdb_extract_statements_error         (sl__ddb.duckdb_extract_statements_error)
#define duckdb_fetch_chunk                      (sl__ddb.duckdb_fetch_chunk)
#define duckdb_free                             (sl__ddb.duckdb_free)
#define duckdb_function_get_local_init_data     (sl__ddb.duckdb_function_get_local_init_data)
#define duckdb_function_set_error               (sl__ddb.duckdb_function_set_error)
#define duckdb_get_int64                        (sl__ddb.duckdb_get_int64)
#define duckdb_get_or_create_from_cache         (sl__ddb.duckdb_get_or_create_from_cache)
#define duckdb_get_type_id                      (sl__ddb.duckdb_get_type_id)
#define duckdb_get_varchar                      (sl__ddb.duckdb_get_varchar)
#define duckdb_init_get_bind_data               (sl__ddb.duckdb_init_get_bind_data)
#define duckdb_init_set_error                   (sl__ddb.duckdb_init_set_error)
#define duckdb_init_set_init_data               (sl__ddb.duckdb_init_set_init_data)
#define duckdb_init_set_max_threads             (sl__ddb.duckdb_init_set_max_threads)
#define duckdb_list_type_child_type             (sl__ddb.duckdb_list_type_child_type)
#define duckdb_list_vector_get_child            (sl__ddb.duckdb_list_vector_get_child)
#define duckdb_list_vector_get_size             (sl__ddb.duckdb_list_vector_get_size)
#define duckdb_list_vector_reserve              (sl__ddb.duckdb_list_vector_reserve)
#define duckdb_list_vector_set_size             (sl__ddb.duckdb_list_vector_set_size)
#define duckdb_logical_type_get_alias           (sl__ddb.duckdb_logical_type_get_alias)
#define duckdb_map_type_key_type                (sl__ddb.duckdb_map_type_key_type)
#define duckdb_map_type_value_type              (sl__ddb.duckdb_map_type_value_type)
#define duckdb_open_ext                         (sl__ddb.duckdb_open_ext)
#define duckdb_pending_error                    (sl__ddb.duckdb_pending_error)
#define duckdb_pending_prepared_streaming       (sl__ddb.duckdb_pending_prepared_streaming)
#define duckdb_prepare                          (sl__ddb.duckdb_prepare)
#define duckdb_prepare_error                    (sl__ddb.duckdb_prepare_error)
#define duckdb_query                            (sl__ddb.duckdb_query)
#define duckdb_register_table_function          (sl__ddb.duckdb_register_table_function)
#define duckdb_result_error                     (sl__ddb.duckdb_result_error)
#define duckdb_result_error_type                (sl__ddb.duckdb_result_error_type)
#define duckdb_result_return_type               (sl__ddb.duckdb_result_return_type)
#define duckdb_set_config                       (sl__ddb.duckdb_set_config)
#define duckdb_string_t_data                    (sl__ddb.duckdb_string_t_data)
#define duckdb_string_t_length                  (sl__ddb.duckdb_string_t_length)
#define duckdb_struct_type_child_count          (sl__ddb.duckdb_struct_type_child_count)
#define duckdb_struct_type_child_name           (sl__ddb.duckdb_struct_type_child_name)
#define duckdb_struct_type_child_type           (sl__ddb.duckdb_struct_type_child_type)
#define duckdb_struct_vector_get_child          (sl__ddb.duckdb_struct_vector_get_child)
#define duckdb_table_function_add_parameter     (sl__ddb.duckdb_table_function_add_parameter)
#define duckdb_table_function_set_bind          (sl__ddb.duckdb_table_function_set_bind)
#define duckdb_table_function_set_function      (sl__ddb.duckdb_table_function_set_function)
#define duckdb_table_function_set_init          (sl__ddb.duckdb_table_function_set_init)
#define duckdb_table_function_set_local_init    (sl__ddb.duckdb_table_function_set_local_init)
#define duckdb_table_function_set_name          (sl__ddb.duckdb_table_function_set_name)
#define duckdb_union_type_member_count          (sl__ddb.duckdb_union_type_member_count)
#define duckdb_union_type_member_type           (sl__ddb.duckdb_union_type_member_type)
#define duckdb_validity_row_is_valid            (sl__ddb.duckdb_validity_row_is_valid)
#define duckdb_validity_set_row_invalid         (sl__ddb.duckdb_validity_set_row_invalid)
#define duckdb_vector_assign_string_element_len (sl__ddb.duckdb_vector_assign_string_element_len)
#define duckdb_vector_ensure_validity_writable  (sl__ddb.duckdb_vector_ensure_validity_writable)
#define duckdb_vector_get_data                  (sl__ddb.duckdb_vector_get_data)
#define duckdb_vector_get_validity              (sl__ddb.duckdb_vector_get_validity)
#define duckdb_vector_size                      (sl__ddb.duckdb_vector_size)
#endif

#endif
